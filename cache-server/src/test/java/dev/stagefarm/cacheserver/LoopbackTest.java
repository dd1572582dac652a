package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.HostPort;
import dev.stagefarm.common.server.MetricsEndpoint;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server on a real Netty port on 127.0.0.1, with its health check and Prometheus endpoint. */
class LoopbackTest {

    @TempDir
    Path dir;

    @Test
    void servesBlobsHealthAndMetricsOverLoopback() throws Exception {
        HostPort listen = HostPort.parse("127.0.0.1:0");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (CacheServer server = new CacheServer(new CacheServerConfig(listen, dir), registry, GrpcServers.netty(listen)).start();
             MetricsEndpoint metrics = MetricsEndpoint.start(listen, registry);
             CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            assertThat(server.port()).isPositive();

            byte[] data = TestServers.randomBytes(3 << 20, 11);
            Digest digest = client.upload(data);
            assertThat(client.findMissing(List.of(digest))).isEmpty();
            assertThat(client.readBytes(digest)).isEqualTo(data);

            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                HealthCheckResponse health = HealthGrpc.newBlockingStub(channel)
                        .check(HealthCheckRequest.newBuilder().setService("stagefarm.v1.ContentStore").build());
                assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            HttpResponse<String> scrape = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.body())
                    .contains("stagefarm_cache_bytes_total{direction=\"in\"} " + (double) data.length)
                    .contains("stagefarm_cache_requests_seconds_count{method=\"Write\",status=\"OK\"} 1");
        }
    }
}
