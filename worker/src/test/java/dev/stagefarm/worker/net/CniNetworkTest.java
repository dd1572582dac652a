package dev.stagefarm.worker.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.worker.exec.BusyboxRootfs;
import dev.stagefarm.worker.exec.ExecException;
import dev.stagefarm.worker.exec.ExecResult;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real steps in real namespaces: runc, Debian's CNI plugins and iptables on this machine. Every
 * refusal is paired with proof that the target answers when asked from the host, so that a test
 * cannot pass because the target was simply not there.
 */
@Tag("root")
class CniNetworkTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    static Path rootfs;
    static CniNetwork network;
    static RuncExecutor executor;
    static OutsideHost outside;

    @BeforeAll
    static void setUp() throws Exception {
        rootfs = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("rootfs")));
        outside = new OutsideHost(tmp.resolve("www"));
        network = CniNetwork.open(config(tmp.resolve("worker").toString(), 2));
        executor = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")), network);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (network != null) {
            network.close();
        }
        if (outside != null) {
            outside.close();
        }
    }

    static CniNetwork.Config config(String key, int pool) {
        return new CniNetwork.Config(
                Path.of("/usr/lib/cni"),
                key,
                List.of(Cidr.parse("198.18.78.0/24")),
                false,
                pool,
                Path.of("/etc/resolv.conf"),
                CniNetwork.Config.RUN_DIR);
    }

    private static boolean stillOnThisHost(InetAddress address) throws IOException {
        return NetworkInterface.getByInetAddress(address) != null;
    }

    @Test
    void aStepReachesTheOutsideThroughNat() throws Exception {
        Step step = run(httpGet(outside.address, 80, "/hello"));

        assertThat(step.output).contains("hello from outside");
    }

    @Test
    void aStepCannotReachTheHostsLoopbackNorItsInterfaceAddresses() throws Exception {
        List<InetAddress> targets = new ArrayList<>(List.of(InetAddress.getLoopbackAddress()));
        targets.addAll(hostInterfaceAddresses());
        assertThat(targets).hasSizeGreaterThan(1); // a host with only lo would prove little
        for (InetAddress target : targets) {
            if (!stillOnThisHost(target)) {
                continue; // another worker's bridge on this machine, gone since the listing
            }
            try (ServerSocket server = new ServerSocket(0, 50, target)) {
                AtomicInteger accepted = acceptInBackground(server);
                String url = target.getHostAddress() + ":" + server.getLocalPort();

                Step step = run(httpGet(target.getHostAddress(), server.getLocalPort(), "/"));

                assertThat(step.output).as(url).contains("refused");
                assertThat(accepted.get()).as(url).isZero();
                // the server was there: the host itself gets through
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(target, server.getLocalPort()), 2000);
                }
            }
        }
    }

    @Test
    void aStepCannotReachTheMetadataAddressNorADeniedRange() throws Exception {
        assertThat(outside.fromHost(outside.metadataAddress)).contains("hello from outside");
        assertThat(outside.fromHost(outside.deniedAddress)).contains("hello from outside");

        // a connection attempt waits up to 30 s: a dropped packet would take that long, a refusal none
        long start = System.nanoTime();
        Step metadata = run(httpGet(outside.metadataAddress, 80, "/hello", 30));
        Step denied = run(httpGet(outside.deniedAddress, 80, "/hello", 30));

        assertThat(metadata.output).contains("refused").doesNotContain("hello from outside");
        assertThat(denied.output).contains("refused").doesNotContain("hello from outside");
        // refused at once (REJECT), not left to time out: two steps in less than one wait
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void twoConcurrentStepsCannotReachEachOther() throws Exception {
        Path ready = Files.createDirectories(tmp.resolve("ready"));
        ProcessSpec server = new ProcessSpec(
                        List.of(
                                "sh",
                                "-c",
                                "ip -4 -o addr show eth0 > /ready/addr; timeout 30 nc -l -p 9000 -e echo hi"),
                        List.of(),
                        "/",
                        "",
                        "default")
                .withMounts(List.of(new ProcessSpec.ExtraMount("/ready", "bind", ready.toString(), List.of("rbind"))));
        CompletableFuture<ExecResult> listening = CompletableFuture.supplyAsync(() -> {
            try {
                return executor.run(rootfs, server, l -> {}, TIMEOUT);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        String address = waitForAddress(ready.resolve("addr"));

        Step client = run("nc -w 2 " + address + " 9000 || echo refused");

        assertThat(client.output).contains("refused").doesNotContain("hi");
        // the other step was listening: the host reaches it (and ends it)
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, 9000), 2000);
        }
        assertThat(listening.get().exitCode()).isZero();
    }

    @Test
    void networkNoneHasOnlyLoopbackAndDefaultHasEth0() throws Exception {
        assertThat(interfaces(runIn("none", "cat /proc/net/dev").output)).containsExactly("lo");
        assertThat(interfaces(run("cat /proc/net/dev").output)).containsExactlyInAnyOrder("lo", "eth0");
    }

    @Test
    void networkHostIsRefusedWithoutTheEntitlement() {
        assertThatThrownBy(() -> runIn("host", "true"))
                .isInstanceOf(ExecException.class)
                .hasMessage("RUN --network=host needs the entitlement network.host on both sides: start the worker"
                        + " with --allow network.host and build with --allow network.host");
    }

    @Test
    void theStepsResolverIsOneItsNamespaceCanReach() throws Exception {
        List<String> conf = run("cat /etc/resolv.conf").output;

        assertThat(conf).anyMatch(l -> l.startsWith("nameserver "));
        assertThat(conf).noneMatch(l -> l.startsWith("nameserver 127.") || l.startsWith("nameserver ::1"));
    }

    /**
     * The real-world case: the distribution mirror, by name, through NAT and the host's
     * resolver. The outside network is not ours: each attempt is bounded (a lookup or a connection
     * that hangs once must not use up the step's time), a failed one says so and the next follows,
     * so a blip on the way to the mirror reads as such, not as a sandbox that cannot reach it.
     */
    @Test
    void aStepFetchesFromTheDebianMirror() throws Exception {
        Step step = run("for attempt in 1 2 3; do"
                + " (printf 'GET /debian/dists/bookworm/Release HTTP/1.1\\r\\nHost: deb.debian.org\\r\\n"
                + "Connection: close\\r\\n\\r\\n'; sleep 5) | timeout 15 nc -w 10 deb.debian.org 80"
                + " | grep -a '^Origin:' && exit 0;"
                + " echo \"attempt $attempt: no answer from deb.debian.org\"; sleep 2;"
                + " done; exit 1");

        assertThat(step.exit).as("output: %s", step.output).isZero();
        assertThat(step.output).contains("Origin: Debian");
    }

    record Step(int exit, List<String> output) {}

    /**
     * A GET with busybox nc (this machine's busybox wget crashes); "refused" when the connection
     * fails. nc stops reading when its input ends, hence the sleep.
     */
    static String httpGet(String host, int port, String path) {
        return httpGet(host, port, path, 2);
    }

    /** An HTTP GET with nc, whose connection attempt waits up to {@code timeoutSeconds}. */
    static String httpGet(String host, int port, String path, int timeoutSeconds) {
        return "(printf 'GET " + path + " HTTP/1.0\\r\\n\\r\\n'; sleep 1) | nc -w " + timeoutSeconds + " " + host + " "
                + port + " || echo refused";
    }

    static Step run(String script) throws Exception {
        return runIn("default", script);
    }

    static Step runIn(String network, String script) throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        ExecResult r = executor.run(
                rootfs, new ProcessSpec(List.of("sh", "-c", script), List.of(), "/", "", network), lines::add, TIMEOUT);
        return new Step(r.exitCode(), List.copyOf(lines));
    }

    static List<String> interfaces(List<String> procNetDev) {
        return procNetDev.stream()
                .filter(l -> l.contains(":"))
                .map(l -> l.substring(0, l.indexOf(':')).strip())
                .toList();
    }

    static List<InetAddress> hostInterfaceAddresses() throws IOException {
        List<InetAddress> out = new ArrayList<>();
        for (NetworkInterface itf : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (itf.isUp() && !itf.isLoopback()) {
                Collections.list(itf.getInetAddresses()).stream()
                        .filter(a -> a instanceof Inet4Address)
                        .forEach(out::add);
            }
        }
        return out;
    }

    private static AtomicInteger acceptInBackground(ServerSocket server) {
        AtomicInteger accepted = new AtomicInteger();
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    accepted.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        });
        return accepted;
    }

    private static String waitForAddress(Path file) {
        Pattern inet = Pattern.compile("inet (\\d+\\.\\d+\\.\\d+\\.\\d+)/");
        return await("the listening step writes its address")
                .atMost(Duration.ofSeconds(10))
                .until(
                        () -> {
                            Matcher m = inet.matcher(Files.exists(file) ? Files.readString(file) : "");
                            return m.find() ? m.group(1) : null;
                        },
                        Objects::nonNull);
    }
}
