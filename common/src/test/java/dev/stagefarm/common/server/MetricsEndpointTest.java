package dev.stagefarm.common.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.net.HostPort;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** What Prometheus and the kubelet's probes see on a server's metrics port. */
class MetricsEndpointTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void healthzAnswersOkAndMetricsStillScrape() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("stagefarm.probe.test").increment();
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(HostPort.parse("127.0.0.1:0"), registry)) {
            HttpResponse<String> health = get(endpoint, "/healthz", "GET");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).isEqualTo("ok\n");

            HttpResponse<String> metrics = get(endpoint, "/metrics", "GET");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("stagefarm_probe_test_total 1.0");
            assertThat(metrics.body()).doesNotContain("ok\n");
        }
    }

    @Test
    void onlyGetIsAnswered() throws Exception {
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(
                HostPort.parse("127.0.0.1:0"), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            HttpResponse<String> post = get(endpoint, "/healthz", "POST");
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("Allow")).contains("GET");
            assertThat(get(endpoint, "/nothing-here", "GET").statusCode()).isEqualTo(404);
        }
    }

    private HttpResponse<String> get(MetricsEndpoint endpoint, String path, String method) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
