package dev.stagefarm.worker.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.exec.BusyboxRootfs;
import dev.stagefarm.worker.exec.ExecResult;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a worker leaves on the host: nothing once a step ends, once it stops, and once it restarts after a crash. */
@Tag("root")
class CniNetworkCleanupTest {

    @TempDir
    static Path tmp;

    static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        rootfs = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("rootfs")));
    }

    @Test
    void withoutAPoolAStepsNamespaceAndVethAreGoneWhenItEnds() throws Exception {
        String tag;
        try (CniNetwork net =
                CniNetwork.open(CniNetworkTest.config(tmp.resolve("w-nopool").toString(), 0))) {
            tag = net.tag();
            RuncExecutor executor = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("w-nopool")), net);
            ExecResult r = executor.run(rootfs, ProcessSpec.of("true"), l -> {}, Duration.ofSeconds(60));

            assertThat(r.exitCode()).isZero();
            assertThat(namespaces(tag)).isEmpty();
            assertThat(bridgePorts(tag)).isEmpty();
        }
        assertNothingLeft(tag);
    }

    @Test
    void aRestartedWorkerRemovesWhatItsCrashedPredecessorLeft() throws Exception {
        String key = tmp.resolve("w-crash").toString();
        CniNetwork crashed = CniNetwork.open(CniNetworkTest.config(key, 2));
        String tag = crashed.tag();
        StepNetwork inFlight = crashed.acquire("default");
        Path leftover = inFlight.namespace().orElseThrow();
        crashed.abandon(); // the process died: the kernel drops its lease, nothing else happens
        assertThat(leftover).exists();
        assertThat(bridgePorts(tag)).hasSize(1);

        try (CniNetwork restarted = CniNetwork.open(CniNetworkTest.config(key, 2))) {
            assertThat(restarted.tag()).isEqualTo(tag);
            assertThat(leftover).doesNotExist();
            assertThat(bridgePorts(tag)).isEmpty();
            assertThat(jumps("iptables", "filter", tag)).hasSize(3); // INPUT and FORWARD twice, once each
            assertThat(jumps("iptables", "nat", tag)).hasSize(1);
            RuncExecutor executor = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("w-crash")), restarted);
            List<String> out = new ArrayList<>();
            executor.run(rootfs, ProcessSpec.of("cat", "/proc/net/dev"), out::add, Duration.ofSeconds(60));
            assertThat(CniNetworkTest.interfaces(out)).containsExactlyInAnyOrder("lo", "eth0");
        }
        assertNothingLeft(tag);
    }

    @Test
    void workersOnOneHostGetTheirOwnBridgeAndSubnet() throws Exception {
        try (CniNetwork a =
                        CniNetwork.open(CniNetworkTest.config(tmp.resolve("w-a").toString(), 0));
                CniNetwork b =
                        CniNetwork.open(CniNetworkTest.config(tmp.resolve("w-b").toString(), 0))) {
            assertThat(a.tag()).isNotEqualTo(b.tag());
            assertThat(a.subnet()).isNotEqualTo(b.subnet());
            assertThat(Path.of("/sys/class/net", CniNetwork.bridge(a.tag()))).exists();
            assertThat(Path.of("/sys/class/net", CniNetwork.bridge(b.tag()))).exists();
        }
    }

    static void assertNothingLeft(String tag) throws Exception {
        assertThat(namespaces(tag)).isEmpty();
        assertThat(Path.of("/sys/class/net", CniNetwork.bridge(tag))).doesNotExist();
        assertThat(jumps("iptables", "filter", tag)).isEmpty();
        assertThat(jumps("iptables", "nat", tag)).isEmpty();
        assertThat(jumps("ip6tables", "filter", tag)).isEmpty();
        assertThat(Commands.run("iptables", "-S")).doesNotContain("SF-" + tag);
    }

    static List<String> namespaces(String tag) throws Exception {
        try (Stream<Path> list = Files.list(Path.of("/var/run/netns"))) {
            return list.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("sfn-" + tag + "-"))
                    .toList();
        }
    }

    static List<String> bridgePorts(String tag) throws Exception {
        Path brif = Path.of("/sys/class/net", CniNetwork.bridge(tag), "brif");
        try (Stream<Path> list = Files.list(brif)) {
            return list.map(p -> p.getFileName().toString()).toList();
        }
    }

    static List<String> jumps(String tool, String table, String tag) throws Exception {
        return Commands.run(tool, "-w", "-t", table, "-S")
                .lines()
                .filter(l -> l.startsWith("-A ") && l.contains("-j SF-" + tag + "-"))
                .toList();
    }
}
