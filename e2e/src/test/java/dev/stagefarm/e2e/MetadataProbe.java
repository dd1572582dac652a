package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;

/**
 * A server on the cloud metadata address, 169.254.169.254:80, reached as in a cloud: by routing,
 * not as one of the host's own addresses. It listens in a network namespace of its own, joined to
 * the host by a veth pair, with a host route to 169.254.169.254 through it; so a step's request
 * would be forwarded by the host and stopped only by the worker's rule for link-local addresses.
 * The host itself reaches it (checked at start), so a probe that gets no request proves the
 * firewall refused it, not that nothing listened.
 *
 * <p>The address is one per host: a lock file keeps two test runs on one machine from setting it
 * up at once, and whatever a killed run left (namespace, link, route) is removed before the next.
 */
final class MetadataProbe implements AutoCloseable {

    static final String ADDRESS = "169.254.169.254";
    private static final Path LOCK = Path.of("/run/stagefarm-e2e-metadata-probe.lock");
    private static final String NAMESPACE = "sfmeta-probe";
    private static final String HOST_LINK = "sfmeta-h";
    private static final String PROBE_LINK = "sfmeta-p";
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY = 0;

    private final FileChannel lockChannel;
    private final FileLock lock;
    private final List<String> hits = new CopyOnWriteArrayList<>();
    private HttpServer server;

    private MetadataProbe(FileChannel lockChannel, FileLock lock) {
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Waits (up to ten minutes) for another run's probe to end, then sets this one up. */
    static MetadataProbe start() throws IOException, InterruptedException {
        FileChannel ch = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        AtomicReference<FileLock> held = new AtomicReference<>();
        try {
            Awaitility.await("the metadata probe's lock " + LOCK + " (another test run holds it)")
                    .atMost(Duration.ofMinutes(10))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        held.set(ch.tryLock());
                        return held.get() != null;
                    });
        } catch (RuntimeException e) {
            ch.close();
            throw e;
        }
        MetadataProbe probe = new MetadataProbe(ch, held.get());
        try {
            probe.setUp();
            return probe;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            probe.close();
            throw e;
        }
    }

    /** Requests the probe received from anyone but {@link #start()}'s own check. */
    List<String> hits() {
        return List.copyOf(hits);
    }

    private void setUp() throws IOException, InterruptedException {
        removeLeftovers();
        ip("netns", "add", NAMESPACE);
        ip("link", "add", HOST_LINK, "type", "veth", "peer", "name", PROBE_LINK);
        ip("link", "set", PROBE_LINK, "netns", NAMESPACE);
        ip("addr", "add", "169.254.169.253/30", "dev", HOST_LINK);
        ip("link", "set", HOST_LINK, "up");
        ip("-n", NAMESPACE, "addr", "add", ADDRESS + "/30", "dev", PROBE_LINK);
        ip("-n", NAMESPACE, "link", "set", PROBE_LINK, "up");
        ip("-n", NAMESPACE, "link", "set", "lo", "up");
        ip("-n", NAMESPACE, "route", "add", "default", "via", "169.254.169.253");
        server = serverInNamespace();
        server.createContext("/", exchange -> {
            hits.add(exchange.getRemoteAddress() + " " + exchange.getRequestURI());
            byte[] body = "metadata-probe\n".getBytes();
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        HttpResponse<String> fromHost;
        try (HttpClient client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .proxy(HttpClient.Builder.NO_PROXY)
                .build()) {
            fromHost = client.send(
                    HttpRequest.newBuilder(URI.create("http://" + ADDRESS + "/from-the-host"))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }
        assertThat(fromHost.body())
                .as("the metadata probe, asked from the host")
                .isEqualTo("metadata-probe\n");
        hits.clear();
    }

    /**
     * An HTTP server whose listening socket lives in {@link #NAMESPACE}: created on a thread of
     * its own that first joins the namespace (a thread's network namespace is its own on Linux);
     * a socket keeps the namespace it was made in, whichever thread accepts on it later.
     */
    private static HttpServer serverInNamespace() throws IOException, InterruptedException {
        AtomicReference<Object> made = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("metadata-probe-setns").start(() -> {
            try {
                joinNamespace(Path.of("/var/run/netns", NAMESPACE));
                made.set(HttpServer.create(new InetSocketAddress(InetAddress.getByName(ADDRESS), 80), 16));
            } catch (Throwable e) {
                made.set(e);
            }
        });
        t.join();
        if (made.get() instanceof HttpServer s) {
            return s;
        }
        throw new IOException(
                "could not listen on " + ADDRESS + ":80 in namespace " + NAMESPACE, (Throwable) made.get());
    }

    private static void joinNamespace(Path ns) throws Throwable {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MethodHandle open = linker.downcallHandle(
                libc.find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle setns = linker.downcallHandle(
                libc.find("setns").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        MethodHandle close = linker.downcallHandle(
                libc.find("close").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom(ns.toString());
            int fd = (int) open.invokeExact(path, O_RDONLY);
            if (fd < 0) {
                throw new IOException("cannot open " + ns);
            }
            try {
                if ((int) setns.invokeExact(fd, CLONE_NEWNET) != 0) {
                    throw new IOException("setns into " + ns + " failed");
                }
            } finally {
                int ignored = (int) close.invokeExact(fd);
            }
        }
    }

    /**
     * The host's end first: deleting it deletes the pair, with the host's address and route, at
     * once (a namespace's devices go away only some time after {@code ip netns del}).
     */
    private static void removeLeftovers() throws IOException, InterruptedException {
        if (Files.exists(Path.of("/sys/class/net", HOST_LINK))) {
            ip("link", "del", HOST_LINK);
        }
        if (Files.exists(Path.of("/var/run/netns", NAMESPACE))) {
            ip("netns", "del", NAMESPACE);
        }
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Tools.run(Path.of("/"), cmd);
    }

    @Override
    public void close() throws IOException {
        try {
            if (server != null) {
                server.stop(0);
            }
            removeLeftovers();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while removing the metadata probe", e);
        } finally {
            lock.release();
            lockChannel.close();
        }
    }
}
