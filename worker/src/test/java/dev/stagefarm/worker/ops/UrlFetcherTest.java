package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.stagefarm.common.Digest;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ADD of a URL against a real HTTP server on loopback. */
class UrlFetcherTest {

    static final byte[] BODY = "#!/bin/sh\necho installed\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    HttpServer server;
    String base;

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/tools/install.sh", ex -> {
            ex.getResponseHeaders().add("Last-Modified", "Tue, 01 Jul 2025 10:00:00 GMT");
            ex.sendResponseHeaders(200, BODY.length);
            ex.getResponseBody().write(BODY);
            ex.close();
        });
        server.createContext("/missing", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void downloadsUnderTheUrlsFileNameWithMode0600AndTheServersTime() throws Exception {
        String name = new UrlFetcher()
                .fetch(base + "/tools/install.sh", Optional.of(Digest.of(BODY).toString()), dir);

        assertThat(name).isEqualTo("install.sh");
        assertThat(dir.resolve(name)).hasBinaryContent(BODY);
        assertThat((Integer) Files.getAttribute(dir.resolve(name), "unix:mode") & 07777)
                .isEqualTo(0600);
        assertThat(Files.getLastModifiedTime(dir.resolve(name)).toInstant().toString())
                .isEqualTo("2025-07-01T10:00:00Z");
    }

    @Test
    void aChecksumMismatchFailsAndLeavesNothing() {
        String wrong = "sha256:" + "0".repeat(64);
        assertThatThrownBy(() -> new UrlFetcher().fetch(base + "/tools/install.sh", Optional.of(wrong), dir))
                .isInstanceOf(CopyException.class)
                .hasMessageContaining("does not match: expected " + wrong + ", got " + Digest.of(BODY));
        assertThat(dir.resolve("install.sh")).doesNotExist();
    }

    @Test
    void anHttpErrorSaysSo() {
        assertThatThrownBy(() -> new UrlFetcher().fetch(base + "/missing", Optional.empty(), dir))
                .hasMessageContaining("HTTP 404");
    }
}
