package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hostile suite: every Dockerfile in {@code src/test/resources/hostile} (its README says what
 * each line of a case means) built on one farm of real processes, each followed by the checks
 * that must hold whatever the build printed: the host's file reached nothing, the host's
 * directory is untouched, the host's servers were never called, and the build's secret rests
 * nowhere on disk.
 */
@Tag("e2e")
class HostileDockerfilesEndToEndTest {

    static final Path CASES = Path.of("src/test/resources/hostile");

    @TempDir
    static Path dir;

    /** Outside the farm's directory, as /etc or another team's files would be. */
    @TempDir
    static Path hostDir;

    static Farm farm;
    static String hostMarker;
    static String secretMarker;
    static Path secretFile;
    static HttpServer probe;
    static final List<String> probeHits = new CopyOnWriteArrayList<>();
    static String probeLoopback;
    static String probeHost;
    /** The address in {@link #probeHost}: {@code ${PROBE_HOST_ADDR}} in a case's {@code # output:} lines. */
    static String probeHostAddr;

    /** One case: its file and what its comment lines ask for. */
    record Case(
            Path file,
            String escape,
            boolean ok,
            String failure,
            List<String> outputs,
            String scanWhile,
            boolean workerAfter,
            boolean metadataProbe) {

        static Case read(Path file) throws IOException {
            String escape = null;
            String expect = null;
            String scanWhile = null;
            boolean workerAfter = false;
            boolean metadataProbe = false;
            List<String> outputs = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                if (!line.startsWith("# ")) {
                    break;
                }
                String d = line.substring(2);
                if (d.startsWith("escape: ")) {
                    escape = d.substring(8);
                } else if (d.startsWith("expect: ")) {
                    expect = d.substring(8);
                } else if (d.startsWith("output: ")) {
                    outputs.add(d.substring(8));
                } else if (d.startsWith("scan-while: ")) {
                    scanWhile = d.substring(12);
                } else if (d.equals("worker-after")) {
                    workerAfter = true;
                } else if (d.equals("metadata-probe")) {
                    metadataProbe = true;
                } else {
                    throw new IllegalArgumentException(
                            file + ": unknown directive \"" + d + "\" (see hostile/README.md)");
                }
            }
            if (escape == null || expect == null || !(expect.equals("ok") || expect.startsWith("fails"))) {
                throw new IllegalArgumentException(
                        file + ": needs \"# escape: …\" and \"# expect: ok|fails TEXT\" lines (see hostile/README.md)");
            }
            boolean ok = expect.equals("ok");
            String failure = ok ? "" : expect.substring("fails".length()).strip();
            return new Case(file, escape, ok, failure, List.copyOf(outputs), scanWhile, workerAfter, metadataProbe);
        }

        @Override
        public String toString() {
            return file.getFileName() + ": " + escape;
        }
    }

    static Stream<Case> cases() throws IOException {
        try (Stream<Path> files = Files.list(CASES)) {
            List<Path> sorted = files.filter(f -> f.toString().endsWith(".Dockerfile"))
                    .sorted()
                    .toList();
            List<Case> cases = new ArrayList<>();
            for (Path f : sorted) {
                cases.add(Case.read(f));
            }
            assertThat(cases).as("hostile cases in %s", CASES.toAbsolutePath()).isNotEmpty();
            return cases.stream();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        hostMarker = "host-only-" + UUID.randomUUID();
        Files.writeString(hostDir.resolve("secret.txt"), hostMarker + "\n");
        secretMarker = "secret-only-" + UUID.randomUUID();
        secretFile = Files.writeString(hostDir.resolve("token"), secretMarker);

        probe = HttpServer.create(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0), 16);
        probe.createContext("/", exchange -> {
            probeHits.add(exchange.getRemoteAddress() + " " + exchange.getRequestURI());
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        probe.start();
        int port = probe.getAddress().getPort();
        probeLoopback = "http://127.0.0.1:" + port + "/loopback";
        probeHostAddr = hostAddress().getHostAddress();
        probeHost = "http://" + probeHostAddr + ":" + port + "/host";

        farm = new Farm(dir.resolve("farm"));
        // a pids limit small enough for the fork bomb to meet it quickly on a two-core machine
        farm.startWorker("w1", "--step-pids", "256", "--step-timeout", "5m");
        farm.awaitWorkers("w1");
    }

    @AfterAll
    static void stop() throws Exception {
        if (farm != null) {
            farm.close();
        }
        if (probe != null) {
            probe.stop(0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theEscapeIsRefused(Case c) throws Exception {
        if (!c.metadataProbe()) {
            buildAndCheck(c);
            return;
        }
        try (MetadataProbe metadata = MetadataProbe.start()) {
            buildAndCheck(c);
            assertThat(metadata.hits())
                    .as("requests that reached the server on %s", MetadataProbe.ADDRESS)
                    .isEmpty();
        }
    }

    private void buildAndCheck(Case c) throws Exception {
        Map<String, String> hostBefore = listing(hostDir);
        Path ctx = Files.createDirectories(dir.resolve("ctx-" + c.file().getFileName()));
        Files.copy(c.file(), ctx.resolve("Dockerfile"), StandardCopyOption.REPLACE_EXISTING);

        Path out = Files.createTempFile(dir, "hostile", ".log");
        Process build = farm.startBuild(
                out,
                "--progress",
                "plain",
                "--no-cache",
                "--build-arg",
                "HOST_DIR=" + hostDir,
                "--build-arg",
                "PROBE_LOOPBACK=" + probeLoopback,
                "--build-arg",
                "PROBE_HOST=" + probeHost,
                "--secret",
                "id=token,src=" + secretFile,
                ctx.toString());
        List<String> foundWhileRunning = new ArrayList<>();
        if (c.scanWhile() != null) {
            AtomicBoolean seen = new AtomicBoolean();
            await("\"" + c.scanWhile() + "\" in the build's output")
                    .atMost(Duration.ofMinutes(5))
                    .until(() -> {
                        seen.set(Files.readString(out).contains(c.scanWhile()));
                        return seen.get() || !build.isAlive();
                    });
            assertThat(seen).as("the step of %s ran", c).isTrue();
            foundWhileRunning.addAll(MarkerScan.filesContaining(dir.resolve("farm"), secretMarker));
        }
        Farm.Result r = farm.await(build, out, c.toString());

        if (c.ok()) {
            r.assertOk();
        } else {
            assertThat(r.exitCode()).as("the build of %s fails", c).isNotZero();
            assertThat(r.output()).contains(c.failure());
        }
        for (String expected : c.outputs()) {
            assertThat(r.output())
                    .as("the probe of %s ran", c)
                    .contains(expected.replace("${PROBE_HOST_ADDR}", probeHostAddr));
        }
        assertThat(foundWhileRunning)
                .as("farm files holding the secret while the step ran")
                .isEmpty();
        assertThat(r.output()).doesNotContain(hostMarker).doesNotContain(secretMarker);
        assertThat(MarkerScan.filesContaining(dir.resolve("farm"), hostMarker))
                .as("farm files holding the host file's bytes")
                .isEmpty();
        assertThat(MarkerScan.filesContaining(dir.resolve("farm"), secretMarker))
                .as("farm files holding the secret after the build")
                .isEmpty();
        assertThat(listing(hostDir)).as("the host's directory").isEqualTo(hostBefore);
        assertThat(probeHits)
                .as("requests that reached the host's probe server")
                .isEmpty();
        if (c.workerAfter()) {
            Path plain =
                    Files.createDirectories(dir.resolve("ctx-after-" + c.file().getFileName()));
            Files.writeString(plain.resolve("Dockerfile"), "FROM busybox\nRUN echo worker-still-works\n");
            assertThat(farm.build("--progress", "plain", "--no-cache", plain.toString())
                            .assertOk()
                            .output())
                    .contains("worker-still-works");
        }
    }

    /** Every entry of {@code root}: name, type, mode, owner, size and mtime. */
    private static Map<String, String> listing(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.forEach(p -> {
                try {
                    PosixFileAttributes a =
                            Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    entries.put(
                            root.relativize(p).toString(),
                            (a.isDirectory() ? "d" : a.isSymbolicLink() ? "l" : "f") + " " + a.permissions() + " "
                                    + a.owner().getName() + " " + a.size() + " " + a.lastModifiedTime());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return entries;
    }

    /** The host's first non-loopback IPv4 address: what a step would try after 127.0.0.1. */
    private static InetAddress hostAddress() throws IOException {
        for (NetworkInterface n : NetworkInterface.networkInterfaces().toList()) {
            if (n.isUp() && !n.isLoopback()) {
                for (InetAddress a : n.inetAddresses().toList()) {
                    if (a instanceof Inet4Address) {
                        return a;
                    }
                }
            }
        }
        throw new IOException("this host has no non-loopback IPv4 address for the probe server");
    }
}
