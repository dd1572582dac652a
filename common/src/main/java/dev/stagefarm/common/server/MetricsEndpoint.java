package dev.stagefarm.common.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.stagefarm.common.net.HostPort;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A Prometheus scrape endpoint ({@code GET /metrics}) on the JDK's built-in HTTP server: every
 * server process exposes one, and none of them needs a web framework for it. {@code GET /healthz}
 * answers {@code ok} on the same port, plain HTTP, for Kubernetes' probes: the kubelet's gRPC probe
 * cannot speak TLS, and the gRPC ports may. Each command starts this endpoint only once its server
 * is up, so an answer means the process got that far and its HTTP thread still runs.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String HEALTHY = "ok\n";

    private final HttpServer http;

    private MetricsEndpoint(HttpServer http) {
        this.http = http;
    }

    /** Starts serving {@code registry} at {@code http://address/metrics}; port 0 picks a free port. */
    public static MetricsEndpoint start(HostPort address, PrometheusMeterRegistry registry) throws IOException {
        HttpServer http = HttpServer.create(address.toSocketAddress(), 0);
        http.createContext("/metrics", exchange -> serve(exchange, registry.scrape()));
        http.createContext("/healthz", exchange -> serve(exchange, HEALTHY));
        // One thread is plenty: Prometheus scrapes every few seconds.
        http.setExecutor(null);
        http.start();
        return new MetricsEndpoint(http);
    }

    private static void serve(HttpExchange exchange, String text) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "GET");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = text.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The address being served, with the real port when started on port 0. */
    public HostPort address() {
        return new HostPort(
                http.getAddress().getAddress().getHostAddress(),
                http.getAddress().getPort());
    }

    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
