package dev.stagefarm.oci.testing;

import static org.awaitility.Awaitility.await;

import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/** Debian's docker-registry (CNCF Distribution) on a free loopback port, storing into a temp dir. */
public final class LocalRegistry implements AutoCloseable {

    private static final String BINARY = "/usr/bin/docker-registry";
    private final Process process;
    private final int port;
    private final Path storage;

    private LocalRegistry(Process process, int port, Path storage) {
        this.process = process;
        this.port = port;
        this.storage = storage;
    }

    public static LocalRegistry start(Path dir) throws Exception {
        Tools.require(BINARY);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path storage = Files.createDirectories(dir.resolve("storage"));
        Path config = dir.resolve("config.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(storage, port));
        Process p = new ProcessBuilder(BINARY, "serve", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile())
                .start();
        LocalRegistry r = new LocalRegistry(p, port, storage);
        r.awaitReady(dir.resolve("registry.log"));
        return r;
    }

    private void awaitReady(Path log) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        try {
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> answers(http, log));
        } catch (ConditionTimeoutException e) {
            close();
            throw new IllegalStateException(
                    "docker-registry did not answer /v2/ within 30 s: " + Files.readString(log));
        }
    }

    private boolean answers(HttpClient http, Path log) throws IOException, InterruptedException {
        if (!process.isAlive()) {
            throw new IllegalStateException("docker-registry exited: " + Files.readString(log));
        }
        try {
            return http.send(
                                    HttpRequest.newBuilder(URI.create(url() + "/v2/"))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                    == 200;
        } catch (IOException notYet) {
            return false; // not listening yet
        }
    }

    public String hostPort() {
        return "127.0.0.1:" + port;
    }

    public String url() {
        return "http://" + hostPort();
    }

    /** Where the registry keeps a blob's bytes (Distribution's filesystem layout). */
    public Path blobData(Digest d) {
        return storage.resolve(
                "docker/registry/v2/blobs/sha256/" + d.encoded().substring(0, 2) + "/" + d.encoded() + "/data");
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
