package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.MetricsEndpoint;
import dev.stagefarm.proto.cache.BatchUpdateBlobsRequest;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
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
import java.util.ArrayList;
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
        try (CacheServer server = new CacheServer(
                                new CacheServerConfig(listen, dir), registry, GrpcServers.netty(listen))
                        .start();
                MetricsEndpoint metrics = MetricsEndpoint.start(listen, registry);
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            assertThat(server.port()).isPositive();

            byte[] data = TestServers.randomBytes(3 << 20, 11);
            Digest digest = client.upload(data);
            assertThat(client.findMissing(List.of(digest))).isEmpty();
            assertThat(client.readBytes(digest)).isEqualTo(data);

            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                    .usePlaintext()
                    .build();
            try {
                HealthCheckResponse health = HealthGrpc.newBlockingStub(channel)
                        .check(HealthCheckRequest.newBuilder()
                                .setService("stagefarm.v1.ContentStore")
                                .build());
                assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            // Over a real transport gRPC's 4 MiB limit applies: one oversized batch is refused whole,
            // while the client splits the same blobs into batches that pass.
            List<byte[]> blobs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                blobs.add(TestServers.randomBytes(600 << 10, 12 + i));
            }
            BatchUpdateBlobsRequest.Builder tooBig = BatchUpdateBlobsRequest.newBuilder();
            blobs.forEach(b -> tooBig.addRequestsBuilder()
                    .setDigest(Digest.of(b).toString())
                    .setData(ByteString.copyFrom(b)));
            ManagedChannel raw = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                    .usePlaintext()
                    .build();
            try {
                assertThatThrownBy(() -> ContentStoreGrpc.newBlockingStub(raw).batchUpdateBlobs(tooBig.build()))
                        .isInstanceOf(StatusRuntimeException.class)
                        .hasMessageContaining("RESOURCE_EXHAUSTED");
            } finally {
                raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            List<Digest> stored = client.uploadAll(blobs);
            assertThat(client.readAll(stored).get(stored.get(1))).isEqualTo(blobs.get(1));

            HttpResponse<String> scrape = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.body())
                    .contains(
                            "stagefarm_cache_bytes_total{direction=\"in\"} " + (double) (data.length + 8 * (600 << 10)))
                    .contains("stagefarm_cache_stored_bytes " + (double) (data.length + 8 * (600 << 10)))
                    .contains("stagefarm_cache_evictions_total 0.0")
                    .contains("stagefarm_cache_requests_seconds_count{method=\"Write\",status=\"OK\"} 1")
                    .contains("stagefarm_cache_requests_seconds_count{method=\"BatchUpdateBlobs\",status=\"OK\"} 2");
        }
    }
}
