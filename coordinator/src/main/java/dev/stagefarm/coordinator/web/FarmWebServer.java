package dev.stagefarm.coordinator.web;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.common.auth.Tokens;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.ServerTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's read-only web page ({@code --ui HOST:PORT}) on the JDK's HTTP server: one
 * static page that polls two JSON endpoints. The page sends the visitor's token as
 * {@code Authorization: Bearer}; tokens are never read from a URL. Without a tokens file the page
 * is open, as the gRPC API is. Nothing here changes the farm: every route is GET.
 */
public final class FarmWebServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FarmWebServer.class);
    private static final Pattern BUILD = Pattern.compile("/api/builds/([A-Za-z0-9-]{1,64})");
    private static final String BEARER = "Bearer ";
    /** The page's static files, from the coordinator's jar: no framework, no build step. */
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/app.js", "app.js",
            "/app.css", "app.css");

    private final HttpServer http;
    private final ExecutorService threads;

    private FarmWebServer(HttpServer http, ExecutorService threads) {
        this.http = http;
        this.threads = threads;
    }

    /**
     * @param tokens the coordinator's tokens, or null for an open farm
     */
    public static FarmWebServer start(HostPort address, ServerTls tls, FarmView view, Supplier<Tokens> tokens)
            throws IOException {
        HttpServer http;
        if (tls.enabled()) {
            SSLContext ssl = tls.sslContext();
            HttpsServer https = HttpsServer.create(address.toSocketAddress(), 0);
            https.setHttpsConfigurator(new HttpsConfigurator(ssl) {
                @Override
                public void configure(HttpsParameters params) {
                    SSLParameters p = ssl.getDefaultSSLParameters();
                    p.setNeedClientAuth(tls.clientCa() != null);
                    params.setSSLParameters(p);
                }
            });
            http = https;
        } else {
            http = HttpServer.create(address.toSocketAddress(), 0);
        }
        ExecutorService threads = Executors.newFixedThreadPool(
                4, Thread.ofPlatform().daemon().name("farm-web-", 0).factory());
        http.setExecutor(threads);
        http.createContext("/", exchange -> serve(exchange, view, tokens));
        http.start();
        log.info(
                "coordinator web view on {}://{}:{}/ ({})",
                tls.enabled() ? "https" : "http",
                address.host(),
                http.getAddress().getPort(),
                tokens == null ? "open: no --tokens" : "sign in with a token");
        return new FarmWebServer(http, threads);
    }

    private static void serve(HttpExchange exchange, FarmView view, Supplier<Tokens> tokens) throws IOException {
        try (exchange) {
            headers(exchange);
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "GET");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            String path = exchange.getRequestURI().getPath();
            String file = STATIC.get(path);
            if (file != null) {
                resource(exchange, file);
                return;
            }
            if (!path.startsWith("/api/")) {
                error(exchange, 404, "no such page");
                return;
            }
            Caller caller;
            try {
                caller = caller(exchange, tokens);
            } catch (Refused r) {
                error(exchange, r.status, r.getMessage());
                return;
            }
            if (path.equals("/api/farm")) {
                json(exchange, 200, view.overview(caller, tokens == null));
                return;
            }
            Matcher m = BUILD.matcher(path);
            Optional<String> build = m.matches() ? view.build(caller, m.group(1)) : Optional.empty();
            if (build.isPresent()) {
                json(exchange, 200, build.get());
            } else {
                error(exchange, 404, "no such build among those this token may see");
            }
        } catch (RuntimeException e) {
            log.warn("web view: {} failed", exchange.getRequestURI().getPath(), e);
        }
    }

    private static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** Who asks, by the bearer token the page sends (never by a query parameter or a cookie). */
    private static Caller caller(HttpExchange exchange, Supplier<Tokens> tokens) throws Refused {
        if (tokens == null) {
            return Caller.OPEN;
        }
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        Caller caller;
        if (authorization == null) {
            caller = tokens.get()
                    .anonymous()
                    .orElseThrow(() -> new Refused(401, "sign in with a token: this farm has a tokens file"));
        } else if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw new Refused(401, "send the token as Authorization: Bearer <token>");
        } else {
            caller = tokens.get()
                    .lookUp(authorization.substring(BEARER.length()).trim())
                    .orElseThrow(() -> new Refused(401, "this farm does not know that token; sign in with another"));
        }
        if (!caller.may(Caller.Scope.READ)) {
            throw new Refused(403, "token '" + caller.name() + "' lacks the read scope the web view needs");
        }
        return caller;
    }

    /** A page that cannot run others' scripts, be framed, or leak its address. */
    private static void headers(HttpExchange exchange) {
        var h = exchange.getResponseHeaders();
        h.set(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self';"
                        + " form-action 'none'; frame-ancestors 'none'; base-uri 'none'");
        h.set("X-Content-Type-Options", "nosniff");
        h.set("X-Frame-Options", "DENY");
        h.set("Referrer-Policy", "no-referrer");
        h.set("Cache-Control", "no-store");
    }

    private static void resource(HttpExchange exchange, String name) throws IOException {
        try (InputStream in = FarmWebServer.class.getResourceAsStream(name)) {
            if (in == null) {
                error(exchange, 404, "missing resource " + name);
                return;
            }
            String type = name.endsWith(".js")
                    ? "text/javascript; charset=utf-8"
                    : name.endsWith(".css") ? "text/css; charset=utf-8" : "text/html; charset=utf-8";
            send(exchange, 200, type, in.readAllBytes());
        }
    }

    private static void json(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, "application/json; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    private static void error(HttpExchange exchange, int status, String message) throws IOException {
        var node = JsonNodeFactory.instance.objectNode();
        json(exchange, status, node.put("error", message).toString());
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** The address served, with the real port when started on port 0. */
    public HostPort address() {
        return new HostPort(
                http.getAddress().getAddress().getHostAddress(),
                http.getAddress().getPort());
    }

    @Override
    public void close() {
        http.stop(0);
        threads.shutdownNow();
    }
}
