package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs real containers with the host's runc; a missing runc fails these tests, it does not skip them. */
@Tag("root")
class RuncExecutorTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    static Path rootfs;
    static RuncExecutor executor;

    @BeforeAll
    static void setUp() throws Exception {
        rootfs = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("rootfs")));
        executor = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")));
    }

    @Test
    void capturesOutputAndExitCode() throws Exception {
        List<String> lines = new ArrayList<>();
        ExecResult result = executor.run(rootfs, ProcessSpec.of("echo", "hello"), lines::add, TIMEOUT);

        assertThat(result.exitCode()).isZero();
        assertThat(lines).containsExactly("hello");
    }

    @Test
    void propagatesTheExitCodeAndKeepsTheTail() throws Exception {
        List<String> lines = new ArrayList<>();
        ExecResult result = executor.run(
                rootfs, ProcessSpec.of("sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"), lines::add, TIMEOUT);

        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.succeeded()).isFalse();
        // two pipes: their relative order is up to the scheduler
        assertThat(lines).containsExactlyInAnyOrder("to-stdout", "to-stderr");
        assertThat(result.outputTail()).containsExactlyInAnyOrder("to-stdout", "to-stderr");
    }

    @Test
    void userAppGetsDefaultPathHomeAndIds() throws Exception {
        List<String> out = run(ProcessSpec.of("sh", "-c", "echo PATH=$PATH; echo HOME=$HOME; id -u; id -g; id -G; pwd")
                .withUser("app")
                .withCwd("/home/app"));

        assertThat(out)
                .containsExactly(
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "HOME=/home/app",
                        "1000",
                        "1000",
                        "1000 2000",
                        "/home/app");
    }

    @Test
    void explicitEnvironmentWins() throws Exception {
        List<String> out = run(ProcessSpec.of("sh", "-c", "echo $PATH $HOME $GREETING")
                .withEnv(List.of("PATH=/bin", "HOME=/tmp", "GREETING=hi")));

        assertThat(out).containsExactly("/bin /tmp hi");
    }

    @Test
    void rootGetsItsPasswdHomeAndUidGidSpecsWork() throws Exception {
        assertThat(run(ProcessSpec.of("sh", "-c", "echo $HOME; id -u"))).containsExactly("/root", "0");
        assertThat(run(ProcessSpec.of("sh", "-c", "echo $HOME; id -u; id -g").withUser("4242:extra")))
                .containsExactly("/", "4242", "2000");
    }

    @Test
    void unknownUserIsAClearError() {
        assertThatThrownBy(() -> executor.run(rootfs, ProcessSpec.of("true").withUser("nobodyx"), l -> {}, TIMEOUT))
                .isInstanceOf(ExecException.class)
                .hasMessage("unable to find user nobodyx: no matching entries in passwd file");
    }

    @Test
    void missingExecutableReportsRuncsErrorAndExitCode() {
        assertThatThrownBy(() -> executor.run(rootfs, ProcessSpec.of("no-such-tool", "x"), l -> {}, TIMEOUT))
                .isInstanceOf(ExecException.class)
                .hasMessageContaining("exec: \"no-such-tool\": executable file not found in $PATH")
                .hasMessageContaining("runc exit code")
                .satisfies(e -> assertThat(((ExecException) e).exitCode()).isGreaterThan(0));
    }

    @Test
    void withoutAStepNetworkEveryStepHasOnlyLoopbackAndHostIsRefused() throws Exception {
        List<String> none = run(ProcessSpec.of("cat", "/proc/net/dev").withNetwork(ProcessSpec.NETWORK_NONE));
        List<String> dflt = run(ProcessSpec.of("cat", "/proc/net/dev"));

        assertThat(interfaces(none)).containsExactly("lo");
        assertThat(interfaces(dflt)).containsExactly("lo");
        assertThatThrownBy(() -> executor.run(
                        rootfs, ProcessSpec.of("true").withNetwork(ProcessSpec.NETWORK_HOST), l -> {}, TIMEOUT))
                .isInstanceOf(ExecException.class)
                .hasMessageContaining("--allow network.host");
    }

    @Test
    void dockerDefaultsForCapabilitiesHostnameAndResolver() throws Exception {
        List<String> status = run(ProcessSpec.of("cat", "/proc/self/status"));
        assertThat(status).contains("CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb", "NoNewPrivs:\t1");

        assertThat(run(ProcessSpec.of("hostname"))).containsExactly("stagefarm");
        assertThat(run(ProcessSpec.of("cat", "/etc/hosts"))).contains("127.0.0.1\tlocalhost stagefarm");
        if (Files.isReadable(Path.of("/etc/resolv.conf"))) {
            assertThat(run(ProcessSpec.of("cat", "/etc/resolv.conf")))
                    .isEqualTo(Files.readAllLines(Path.of("/etc/resolv.conf")));
        }
        // BuildKit's 1048576, unless the worker's own hard limit is lower (runc cannot exceed it)
        long hard = Long.parseLong(Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(l -> l.startsWith("Max open files"))
                .findFirst()
                .orElseThrow()
                .substring("Max open files".length())
                .trim()
                .split("\\s+")[1]);
        assertThat(run(ProcessSpec.of("sh", "-c", "ulimit -n")))
                .containsExactly(Long.toString(Math.min(1 << 20, hard)));
        assertThat(run(ProcessSpec.of("sh", "-c", "( echo x > /etc/hosts ) 2>/dev/null || echo denied")))
                .containsExactly("denied");
        // the mount points runc had to create are not left in the rootfs
        assertThat(rootfs.resolve("etc/hosts")).doesNotExist();
        assertThat(rootfs.resolve("proc")).doesNotExist();
    }

    @Test
    void missingWorkingDirectoryIsCreatedForTheUser() throws Exception {
        List<String> out = run(ProcessSpec.of("sh", "-c", "pwd; touch mine && echo ok")
                .withUser("app")
                .withCwd("/srv/app/src"));

        assertThat(out).containsExactly("/srv/app/src", "ok");
        assertThat(Files.getAttribute(rootfs.resolve("srv/app"), "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(rootfs.resolve("srv/app/src/mine"), "unix:uid"))
                .isEqualTo(1000);
    }

    @Test
    void timeoutKillsTheContainer() throws Exception {
        long start = System.nanoTime();
        assertThatThrownBy(() -> executor.run(rootfs, ProcessSpec.of("sleep", "60"), l -> {}, Duration.ofSeconds(1)))
                .isInstanceOf(ExecException.class)
                .hasMessageContaining("timed out");

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        assertThat(runcList()).isEmpty();
        try (Stream<Path> bundles =
                Files.list(RuncExecutor.Config.defaults(tmp.resolve("worker")).bundlesDir())) {
            assertThat(bundles.map(b -> b.getFileName().toString()))
                    .as("what is left in the worker's bundle directory")
                    .containsExactly(BundleOwner.OWNER_FILE);
        }
    }

    @Test
    void interruptKillsTheContainer() throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> thrown = Collections.synchronizedList(new ArrayList<>());
        Thread runner = Thread.ofPlatform().start(() -> {
            try {
                executor.run(rootfs, ProcessSpec.of("sh", "-c", "echo started; sleep 60"), lines::add, TIMEOUT);
            } catch (Exception e) {
                thrown.add(e);
            }
        });
        await("the step started or failed")
                .atMost(Duration.ofSeconds(30))
                .until(() -> lines.contains("started") || !thrown.isEmpty());
        assertThat(thrown).as("run failed before it started").isEmpty();
        assertThat(lines).contains("started");
        runner.interrupt();
        runner.join(Duration.ofSeconds(30));

        assertThat(runner.isAlive()).isFalse();
        assertThat(thrown).singleElement().isInstanceOf(InterruptedException.class);
        assertThat(runcList()).isEmpty();
    }

    @Test
    void aConsumerThatThrowsDoesNotHangTheProcess() throws Exception {
        ExecResult result = executor.run(
                rootfs,
                ProcessSpec.of("sh", "-c", "seq 1 20000; exit 4"),
                line -> {
                    throw new IllegalStateException("consumer broke");
                },
                TIMEOUT);

        assertThat(result.exitCode()).isEqualTo(4);
        assertThat(result.outputTail()).endsWith("20000");
    }

    @Test
    void missingRuncFailsToOpen() {
        var config = new RuncExecutor.Config(
                tmp.resolve("no/runc"),
                tmp.resolve("s"),
                tmp.resolve("b"),
                Path.of("/etc/resolv.conf"),
                "stagefarm",
                10);

        assertThatThrownBy(() -> RuncExecutor.open(config))
                .isInstanceOf(ExecException.class)
                .hasMessageContaining("runc not found");
    }

    private static List<String> run(ProcessSpec spec) throws Exception {
        List<String> lines = new ArrayList<>();
        ExecResult result = executor.run(rootfs, spec, lines::add, TIMEOUT);
        assertThat(result.exitCode())
                .as("exit code of %s, output %s", spec.args(), lines)
                .isZero();
        return lines;
    }

    private static Set<String> interfaces(List<String> procNetDev) {
        Set<String> names = new TreeSet<>();
        for (String line : procNetDev) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.contains("|")) {
                names.add(line.substring(0, colon).strip());
            }
        }
        return names;
    }

    private static List<String> runcList() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(
                        RuncExecutor.Config.defaults(tmp).runc().toString(),
                        "--root",
                        tmp.resolve("worker/runc").toString(),
                        "list",
                        "--quiet")
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }
}
