package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each RUN in its own cgroup below the worker's, with the worker's limits: real runc on this (cgroup v1) host. */
@Tag("root")
class StepLimitsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    static Path tmp;

    static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        rootfs = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("rootfs")));
    }

    @Test
    void aStepRunsInItsOwnCgroupBelowTheWorkersOwn() throws Exception {
        RuncExecutor executor = executor("own", StepLimits.DEFAULTS);
        List<String> out = new ArrayList<>();
        executor.run(rootfs, ProcessSpec.of("cat", "/proc/self/cgroup"), out::add, TIMEOUT);

        String ownMemory = Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
                .filter(l -> l.contains(":memory:"))
                .findFirst()
                .orElseThrow()
                .split(":", 3)[2];
        String stepMemory = out.stream()
                .filter(l -> l.contains(":memory:"))
                .findFirst()
                .orElseThrow()
                .split(":", 3)[2];
        assertThat(stepMemory)
                .startsWith((ownMemory.equals("/") ? "" : ownMemory) + "/stagefarm/sf-")
                .endsWith("/step");
    }

    @Test
    void aForkBombStopsAtThePidsLimitWhileAnotherStepRuns() throws Exception {
        RuncExecutor executor =
                executor("bomb", StepLimits.DEFAULTS.withPids(64).withTimeout(Duration.ofSeconds(15)));
        Path bombRoot = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("bomb-rootfs")));
        AtomicLong bombLines = new AtomicLong();
        CompletableFuture<Object> bomb = CompletableFuture.supplyAsync(() -> {
            try {
                return executor.run(
                        bombRoot,
                        ProcessSpec.of("sh", "-c", "f() { f | f & }; f; sleep 30"),
                        l -> bombLines.incrementAndGet(),
                        TIMEOUT);
            } catch (Exception e) {
                return e;
            }
        });
        // the other step starts while the bomb is busy forking, not before it got going
        await("the fork bomb underway")
                .atMost(Duration.ofSeconds(30))
                .until(() -> stepCounters("pids", "pids.current").stream().anyMatch(n -> n >= 32));

        long start = System.nanoTime();
        List<String> out = new ArrayList<>();
        ExecResult other = executor.run(rootfs, ProcessSpec.of("echo", "still here"), out::add, TIMEOUT);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        List<Long> bombPids = stepCounters("pids", "pids.current");

        assertThat(other.exitCode()).isZero();
        assertThat(out).containsExactly("still here");
        assertThat(took).isLessThan(Duration.ofSeconds(10));
        assertThat(bombPids).as("processes in the bomb's cgroup").isNotEmpty().allMatch(n -> n <= 64);
        Object bombResult = bomb.get();
        assertThat(bombResult)
                .as("the bomb step fails: a non-zero exit or killed at its time limit")
                .satisfiesAnyOf(
                        r -> assertThat(r).isInstanceOf(ExecException.class),
                        r -> assertThat(((ExecResult) r).exitCode()).isNotZero());
    }

    @Test
    void floodingOutputIsClippedAtTwoMebibytes() throws Exception {
        RuncExecutor executor = executor("flood", StepLimits.DEFAULTS);
        AtomicLong bytes = new AtomicLong();
        List<String> last = Collections.synchronizedList(new ArrayList<>());
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();

        ExecResult r = executor.run(
                rootfs,
                ProcessSpec.of("sh", "-c", "yes | head -c 200000000; echo; echo done"),
                l -> {
                    bytes.addAndGet(l.getBytes(StandardCharsets.UTF_8).length + 1);
                    last.add(l);
                    if (last.size() > 2) {
                        last.removeFirst();
                    }
                },
                TIMEOUT);
        System.gc();
        long heapAfter = rt.totalMemory() - rt.freeMemory();

        assertThat(r.exitCode()).isZero();
        String clipped = "[output clipped, log limit 2MiB reached]";
        assertThat(last.getLast()).isEqualTo(clipped);
        assertThat(bytes.get()).isLessThanOrEqualTo(2 * StepLimits.MIB + clipped.length() + 1);
        assertThat(bytes.get()).isGreaterThan(2 * StepLimits.MIB - 16 * 1024);
        assertThat(heapAfter - heapBefore)
                .as("heap growth after 200 MB of output")
                .isLessThan(64 * StepLimits.MIB);
    }

    @Test
    void aStepOverTheMemoryLimitIsKilledWithAClearError() throws Exception {
        RuncExecutor executor = executor("oom", StepLimits.DEFAULTS.withMemory(32 * StepLimits.MIB));
        List<Path> before = stepDirs("memory");

        assertThatThrownBy(() -> executor.run(
                        rootfs,
                        ProcessSpec.of("sh", "-c", "a=$(head -c 300000000 /dev/zero | tr '\\0' x); echo ${#a}"),
                        l -> {},
                        TIMEOUT))
                .isInstanceOf(ExecException.class)
                .hasMessage("the step ran out of memory: the kernel killed it at the worker's --step-memory limit"
                        + " of 32 MiB; use less memory in the step or raise --step-memory");
        // this step's cgroups, that is: another test's or run's leftovers are not this step's
        assertThat(stepDirs("memory")).as("the step's cgroups are removed").isSubsetOf(before);

        List<String> out = new ArrayList<>();
        ExecResult fits = executor.run(
                rootfs,
                ProcessSpec.of("sh", "-c", "a=$(head -c 4000000 /dev/zero | tr '\\0' x); echo ${#a}"),
                out::add,
                TIMEOUT);
        assertThat(fits.exitCode()).isZero();
        assertThat(out).containsExactly("4000000");
    }

    @Test
    void theStepTimeoutKillsASleepingStep() throws Exception {
        RuncExecutor executor = executor("timeout", StepLimits.DEFAULTS.withTimeout(Duration.ofSeconds(3)));
        long start = System.nanoTime();

        assertThatThrownBy(() -> executor.run(rootfs, ProcessSpec.of("sleep", "100"), l -> {}, Duration.ofHours(1)))
                .isInstanceOf(ExecException.class)
                .hasMessage("the step timed out: it ran longer than its time limit of 3s and was killed"
                        + " (the worker's --step-timeout)");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void tmpfsMountsGetSixtyFourMebibytesUnlessTheyAskOtherwise() throws Exception {
        RuncExecutor executor = executor("tmpfs", StepLimits.DEFAULTS);
        List<String> out = new ArrayList<>();
        ProcessSpec spec = ProcessSpec.of("sh", "-c", "df -k /a /b | tail -n 2 | awk '{print $2}'")
                .withMounts(List.of(
                        new ProcessSpec.ExtraMount("/a", "tmpfs", "tmpfs", List.of("nosuid", "nodev")),
                        new ProcessSpec.ExtraMount("/b", "tmpfs", "tmpfs", List.of("nosuid", "size=1048576"))));

        executor.run(rootfs, spec, out::add, TIMEOUT);

        assertThat(out).containsExactly("65536", "1024");
    }

    private static RuncExecutor executor(String name, StepLimits limits) throws Exception {
        return RuncExecutor.open(
                RuncExecutor.Config.defaults(tmp.resolve("worker-" + name)).withLimits(limits));
    }

    /** This JVM's steps' cgroup directories in one v1 hierarchy. */
    private static List<Path> stepDirs(String controller) throws Exception {
        Path parent = StepCgroups.detect().ownDir(controller).orElseThrow().resolve(StepCgroups.PARENT);
        if (!Files.isDirectory(parent)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(parent)) {
            return dirs.filter(Files::isDirectory).toList();
        }
    }

    private static List<Long> stepCounters(String controller, String file) throws Exception {
        List<Long> out = new ArrayList<>();
        for (Path dir : stepDirs(controller)) {
            Path f = dir.resolve("step").resolve(file);
            if (Files.exists(f)) {
                out.add(Long.parseLong(Files.readString(f).strip()));
            }
        }
        return out;
    }
}
