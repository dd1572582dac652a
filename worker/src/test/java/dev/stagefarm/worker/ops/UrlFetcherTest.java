package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.worker.net.Cidr;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ADD of a URL against real HTTP servers on loopback: what the farm allows is fetched, every
 * loopback, link-local or private address (directly, by name or through a redirect) is refused
 * before a connection, and a download past --max-fetch-size stops while it streams.
 */
class UrlFetcherTest {

    static final byte[] BODY = "#!/bin/sh\necho installed\n".getBytes(StandardCharsets.UTF_8);
    static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    HttpServer server;
    HttpServer other;
    final AtomicInteger otherHits = new AtomicInteger();
    final AtomicInteger serverHits = new AtomicInteger();
    String base;
    HostPort endpoint;

    @BeforeEach
    void serve() throws Exception {
        other = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        other.createContext("/", ex -> {
            otherHits.incrementAndGet();
            ex.sendResponseHeaders(200, BODY.length);
            ex.getResponseBody().write(BODY);
            ex.close();
        });
        other.start();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            serverHits.incrementAndGet();
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.createContext("/tools/install.sh", ex -> {
            serverHits.incrementAndGet();
            ex.getResponseHeaders().add("Last-Modified", "Tue, 01 Jul 2025 10:00:00 GMT");
            ex.sendResponseHeaders(200, BODY.length);
            ex.getResponseBody().write(BODY);
            ex.close();
        });
        server.createContext("/big", ex -> {
            ex.sendResponseHeaders(200, 3L * MIB); // an honest Content-Length
            sendZeros(ex.getResponseBody(), 3L * MIB);
        });
        server.createContext("/big-chunked", ex -> {
            ex.sendResponseHeaders(200, 0); // no length: only counting the bytes can stop it
            sendZeros(ex.getResponseBody(), 64L * MIB);
        });
        server.createContext("/to-metadata", ex -> redirect(ex, "http://169.254.169.254/latest/meta-data/"));
        server.createContext("/to-private", ex -> redirect(ex, "http://10.1.2.3:8080/internal"));
        server.createContext(
                "/to-other-port",
                ex -> redirect(ex, "http://127.0.0.1:" + other.getAddress().getPort() + "/secret"));
        server.start();
        endpoint = new HostPort("127.0.0.1", server.getAddress().getPort());
        base = "http://" + endpoint;
    }

    private static void redirect(com.sun.net.httpserver.HttpExchange ex, String location) throws java.io.IOException {
        ex.getResponseHeaders().add("Location", location);
        ex.sendResponseHeaders(302, -1);
        ex.close();
    }

    private static void sendZeros(OutputStream out, long bytes) {
        byte[] chunk = new byte[64 * 1024];
        try (out) {
            for (long sent = 0; sent < bytes; sent += chunk.length) {
                out.write(chunk);
            }
        } catch (java.io.IOException clientHungUp) {
            // the fetcher stops reading at its limit
        }
    }

    @AfterEach
    void stop() {
        server.stop(0);
        other.stop(0);
    }

    private UrlFetcher allowingTheServer() {
        return new UrlFetcher(InputLimits.DEFAULTS.withAllowFetch(List.of(endpoint)));
    }

    @Test
    void downloadsUnderTheUrlsFileNameWithMode0600AndTheServersTime() throws Exception {
        String name = allowingTheServer()
                .fetch(base + "/tools/install.sh", Optional.of(Digest.of(BODY).toString()), dir);

        assertThat(name).isEqualTo("install.sh");
        assertThat(dir.resolve(name)).hasBinaryContent(BODY);
        assertThat((Integer) Files.getAttribute(dir.resolve(name), "unix:mode") & 07777)
                .isEqualTo(0600);
        assertThat(Files.getLastModifiedTime(dir.resolve(name)).toInstant().toString())
                .isEqualTo("2025-07-01T10:00:00Z");
    }

    @Test
    void anEndpointIsAllowedByTheNameTheUrlUses() throws Exception {
        UrlFetcher byName = new UrlFetcher(
                InputLimits.DEFAULTS.withAllowFetch(List.of(new HostPort("localhost", endpoint.port()))));
        String url = "http://localhost:" + endpoint.port() + "/tools/install.sh";
        // localhost may resolve to ::1 first, where nothing listens: the fetcher tries the next address
        assertThat(byName.fetch(url, Optional.empty(), dir)).isEqualTo("install.sh");
    }

    @Test
    void aChecksumMismatchFailsAndLeavesNothing() {
        String wrong = "sha256:" + "0".repeat(64);
        assertThatThrownBy(() -> allowingTheServer().fetch(base + "/tools/install.sh", Optional.of(wrong), dir))
                .isInstanceOf(CopyException.class)
                .hasMessageContaining("does not match: expected " + wrong + ", got " + Digest.of(BODY));
        assertThat(dir.resolve("install.sh")).doesNotExist();
    }

    @Test
    void anHttpErrorSaysSo() {
        assertThatThrownBy(() -> allowingTheServer().fetch(base + "/missing", Optional.empty(), dir))
                .hasMessageContaining("HTTP 404");
    }

    @Test
    void theWorkersOwnLoopbackIsRefusedUnlessAllowedAndTheServerNeverHearsOfIt() {
        assertThatThrownBy(() -> new UrlFetcher().fetch(base + "/tools/install.sh", Optional.empty(), dir))
                .isInstanceOf(CopyException.class)
                .hasMessage("fetching " + base + "/tools/install.sh refused: 127.0.0.1 is a loopback address,"
                        + " which builds may not fetch from (a farm operator can allow it with the worker flag"
                        + " --allow-fetch " + endpoint + ")");
        assertThatThrownBy(() -> new UrlFetcher()
                        .fetch("http://localhost:" + endpoint.port() + "/tools/install.sh", Optional.empty(), dir))
                .hasMessageContaining("refused: localhost (")
                .hasMessageContaining("is a loopback address");
        // allowing another port of the same host does not allow this one
        UrlFetcher otherPort = new UrlFetcher(InputLimits.DEFAULTS.withAllowFetch(
                List.of(new HostPort("127.0.0.1", other.getAddress().getPort()))));
        assertThatThrownBy(() -> otherPort.fetch(base + "/tools/install.sh", Optional.empty(), dir))
                .hasMessageContaining("is a loopback address");
        assertThat(serverHits).hasValue(0);
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void metadataLinkLocalPrivateAndUnspecifiedAddressesAreRefusedBeforeAnyConnection() {
        String[][] cases = {
            {"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"},
            {"http://[fe80::1]:8080/x", "fe80::1 is a link-local address"},
            {"http://10.0.0.1/x", "10.0.0.1 is a private address"},
            {"http://172.16.5.4:9000/x", "172.16.5.4 is a private address"},
            {"http://192.168.1.1/x", "192.168.1.1 is a private address"},
            {"https://[fd00::1]/x", "fd00::1 is a private address"},
            {"http://0.0.0.0:" + endpoint.port() + "/x", "0.0.0.0 is an unspecified address"},
            {"http://[::1]:" + endpoint.port() + "/x", "::1 is a loopback address"},
            {"http://[::ffff:127.0.0.1]:" + endpoint.port() + "/x", "is a loopback address"},
        };
        for (String[] c : cases) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> new UrlFetcher().fetch(c[0], Optional.empty(), dir))
                    .as(c[0])
                    .isInstanceOf(CopyException.class)
                    .hasMessageContaining(c[1])
                    .hasMessageContaining("--allow-fetch");
            // refused at once: not a connect timeout to an unroutable address
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as(c[0]).isLessThan(Duration.ofSeconds(5));
        }
        assertThat(serverHits).hasValue(0);
    }

    @Test
    void aPublicRangeTheFarmDeniesIsRefusedToo() {
        // --deny-net and the farm's own endpoints keep ADD away as they keep RUN steps away
        UrlFetcher denying = new UrlFetcher(InputLimits.DEFAULTS.withDenyFetch(List.of(Cidr.parse("203.0.113.0/24"))));
        assertThatThrownBy(() -> denying.fetch("http://203.0.113.7/x", Optional.empty(), dir))
                .isInstanceOf(CopyException.class)
                .hasMessage("fetching http://203.0.113.7/x refused: 203.0.113.7 is in 203.0.113.0/24, a range this"
                        + " farm refuses (--deny-net, or the farm's own endpoints), which builds may not fetch from"
                        + " (a farm operator can allow it with the worker flag --allow-fetch 203.0.113.7:80)");
    }

    @Test
    void aRedirectFromAnAllowedServerToAForbiddenAddressIsRefusedAtThatHop() {
        assertThatThrownBy(() -> allowingTheServer().fetch(base + "/to-metadata", Optional.empty(), dir))
                .isInstanceOf(CopyException.class)
                .hasMessage("fetching " + base + "/to-metadata refused: a redirect to 169.254.169.254 is a link-local"
                        + " address, which builds may not fetch from (a farm operator can allow it with the worker"
                        + " flag --allow-fetch 169.254.169.254:80)");
        assertThatThrownBy(() -> allowingTheServer().fetch(base + "/to-private", Optional.empty(), dir))
                .hasMessageContaining("a redirect to 10.1.2.3 is a private address")
                .hasMessageContaining("--allow-fetch 10.1.2.3:8080");
        // the same loopback host on a port the farm did not allow
        assertThatThrownBy(() -> allowingTheServer().fetch(base + "/to-other-port", Optional.empty(), dir))
                .hasMessageContaining("is a loopback address")
                .hasMessageContaining(
                        "--allow-fetch 127.0.0.1:" + other.getAddress().getPort());
        assertThat(otherHits).hasValue(0);
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void aDownloadPastMaxFetchSizeIsRefusedWhetherOrNotTheServerSaysItsLength() {
        UrlFetcher small =
                new UrlFetcher(InputLimits.DEFAULTS.withFetchSize(MIB).withAllowFetch(List.of(endpoint)));
        for (String path : new String[] {"/big", "/big-chunked"}) {
            assertThatThrownBy(() -> small.fetch(base + path, Optional.empty(), dir))
                    .as(path)
                    .isInstanceOf(CopyException.class)
                    .hasMessage(base + path + " is larger than this worker's --max-fetch-size of 1.0 MiB: raise"
                            + " --max-fetch-size on the workers if it is meant to be this big");
            assertThat(dir).as(path).isEmptyDirectory();
        }
    }

    @Test
    void onlyHttpAndHttpsAreFetched() {
        assertThatThrownBy(() -> new UrlFetcher().fetch("file:///etc/passwd", Optional.empty(), dir))
                .hasMessage("file:///etc/passwd is not an http or https URL, the only ones ADD fetches");
    }
}
