package dev.stagefarm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A real headless Chromium (Debian's {@code chromium}) driven over the DevTools protocol with the
 * JDK's WebSocket client: navigate, run JavaScript in the page, take a screenshot.
 */
final class Chromium implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    private Chromium(Process process, WebSocket socket) {
        this.process = process;
        this.socket = socket;
    }

    static Chromium start(Path profile) throws Exception {
        Path binary = Tools.which("chromium");
        if (binary == null) {
            throw new AssertionError("chromium is not installed: run deploy/dev/host-deps.sh");
        }
        Files.createDirectories(profile);
        Process p = new ProcessBuilder(List.of(
                        binary.toString(),
                        "--headless=new",
                        "--no-sandbox", // tests run as root, where Chromium's own sandbox cannot start
                        "--disable-gpu",
                        "--no-first-run",
                        "--remote-debugging-address=127.0.0.1",
                        "--remote-debugging-port=0",
                        "--user-data-dir=" + profile,
                        "--window-size=1280,900",
                        "about:blank"))
                .redirectErrorStream(true)
                .start();
        String endpoint = null;
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        StringBuilder seen = new StringBuilder();
        for (String line; System.nanoTime() < deadline && (line = out.readLine()) != null; ) {
            seen.append(line).append('\n');
            int at = line.indexOf("ws://");
            if (line.startsWith("DevTools listening on") && at >= 0) {
                endpoint = line.substring(at);
                break;
            }
        }
        if (endpoint == null) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not open its DevTools port:\n" + seen);
        }
        Thread.ofPlatform().daemon().start(() -> out.lines().forEach(l -> {})); // keep its pipe drained
        URI browser = URI.create(endpoint);
        String list = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://" + browser.getAuthority() + "/json/list"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        String page = null;
        for (JsonNode target : JSON.readTree(list)) {
            if (target.path("type").asText().equals("page")) {
                page = target.path("webSocketDebuggerUrl").asText();
            }
        }
        if (page == null) {
            p.destroyForcibly();
            throw new AssertionError("chromium shows no page target: " + list);
        }
        Chromium[] self = new Chromium[1];
        WebSocket ws = HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .buildAsync(URI.create(page), new WebSocket.Listener() {
                    private final StringBuilder text = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        text.append(data);
                        if (last) {
                            String message = text.toString();
                            text.setLength(0);
                            try {
                                JsonNode reply = JSON.readTree(message);
                                CompletableFuture<JsonNode> f = reply.has("id")
                                        ? self[0].pending.remove(reply.get("id").asInt())
                                        : null;
                                if (f != null) {
                                    f.complete(reply);
                                }
                            } catch (IOException e) {
                                // not a protocol message
                            }
                        }
                        w.request(1);
                        return null;
                    }
                })
                .get(30, TimeUnit.SECONDS);
        self[0] = new Chromium(p, ws);
        self[0].call("Page.enable", JSON.createObjectNode());
        return self[0];
    }

    JsonNode call(String method, ObjectNode params) throws IOException {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", params);
        socket.sendText(message.toString(), true).join();
        try {
            JsonNode r = reply.get(60, TimeUnit.SECONDS);
            if (r.has("error")) {
                throw new IOException(method + " failed: " + r.get("error"));
            }
            return r.path("result");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException(method + " got no answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    void navigate(String url) throws IOException {
        call("Page.navigate", JSON.createObjectNode().put("url", url));
    }

    /** Runs {@code expression} in the page and returns its value (promises awaited). */
    JsonNode eval(String expression) throws IOException {
        JsonNode r = call(
                "Runtime.evaluate",
                JSON.createObjectNode()
                        .put("expression", expression)
                        .put("awaitPromise", true)
                        .put("returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new IOException("page script failed: " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    String text(String expression) throws IOException {
        return eval(expression).asText();
    }

    /** Waits until a page expression is true. */
    void await(String what, String expression, Duration within) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        BooleanSupplier check = () -> {
            try {
                return eval(expression).asBoolean();
            } catch (IOException e) {
                return false;
            }
        };
        while (!check.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the page did not show " + what + " within " + within + "; it shows:\n"
                        + text("document.body ? document.body.innerText : ''"));
            }
            Thread.sleep(250);
        }
    }

    void screenshot(Path png) throws IOException {
        JsonNode r = call(
                "Page.captureScreenshot",
                JSON.createObjectNode().put("format", "png").put("captureBeyondViewport", true));
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, Base64.getDecoder().decode(r.path("data").asText()));
    }

    @Override
    public void close() throws InterruptedException {
        socket.abort();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
