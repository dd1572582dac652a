package dev.stagefarm.worker.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.proto.farm.CacheMount;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.RunMount;
import dev.stagefarm.worker.cachemount.MountSyncMetrics;
import dev.stagefarm.worker.cachemount.SharedCacheMounts;
import dev.stagefarm.worker.exec.BusyboxRootfs;
import dev.stagefarm.worker.exec.ExecResult;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RUN --mount=type=cache shared through a real cache-server (in-process, RocksDB) by "workers"
 * with roots of their own, each step in a real runc container.
 */
@Tag("root")
class SharedCacheMountsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    static RuncExecutor runc;
    static CacheServer server;
    static ManagedChannel channel;
    static CacheClient cache;
    static int workers;

    @BeforeAll
    static void setUp() throws Exception {
        runc = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("runc")));
        String name = InProcessServerBuilder.generateName();
        server = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), tmp.resolve("cache")),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(name))
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        cache = new CacheClient(channel);
    }

    @AfterAll
    static void tearDown() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    @Test
    void whatOneWorkerWritesAnotherSeesAndDeletesPropagate() throws Exception {
        Worker a = new Worker();
        Worker b = new Worker();
        RunMount mount = cacheMount("/root/.cache/build", "build", "shared");

        a.run(
                mount,
                "mkdir -p /root/.cache/build/obj && echo compiled > /root/.cache/build/obj/main.o"
                        + " && chmod 600 /root/.cache/build/obj/main.o && chown 1000:1000 /root/.cache/build/obj/main.o"
                        + " && ln -s obj/main.o /root/.cache/build/latest && touch -d '2020-01-02 03:04:05' /root/.cache/build/obj/main.o");

        assertThat(b.run(
                        mount,
                        "cd /root/.cache/build && cat obj/main.o && readlink latest"
                                + " && stat -c '%a %u:%g %Y' obj/main.o"))
                .as("a worker that never ran the step sees the files, owners, modes and times")
                .containsExactly(
                        "compiled",
                        "obj/main.o",
                        "600 1000:1000 "
                                + LocalDateTime.of(2020, 1, 2, 3, 4, 5)
                                        .atZone(ZoneId.systemDefault())
                                        .toEpochSecond());

        b.run(mount, "rm -r /root/.cache/build/obj && echo new > /root/.cache/build/added");
        assertThat(a.run(mount, "ls /root/.cache/build | sort"))
                .as("the delete reached the first worker")
                .containsExactly("added", "latest");
        assertThat(a.metrics
                        .counter("stagefarm.worker.cache.mount.publishes", "result", "published")
                        .count())
                .isEqualTo(1);
    }

    @Test
    void lockedStepsOnTwoWorkersRunOneAfterTheOther() throws Exception {
        Worker a = new Worker();
        Worker b = new Worker();
        RunMount mount = cacheMount("/cache", "apt", "locked");
        String script = "echo start-$W >> /cache/log; sleep 1; echo end-$W >> /cache/log";

        CompletableFuture<List<String>> first =
                CompletableFuture.supplyAsync(() -> a.runUnchecked(mount, "W=a; " + script));
        CompletableFuture<List<String>> second =
                CompletableFuture.supplyAsync(() -> b.runUnchecked(mount, "W=b; " + script));
        first.get(60, TimeUnit.SECONDS);
        second.get(60, TimeUnit.SECONDS);

        List<String> log = new Worker().run(mount, "cat /cache/log");
        assertThat(log)
                .as("each step started from the other's result and never overlapped it")
                .isIn(List.of("start-a", "end-a", "start-b", "end-b"), List.of("start-b", "end-b", "start-a", "end-a"));
    }

    @Test
    void aPrivateStepThatFindsTheMountBusyStartsFromItAndItsChangesAreDropped() throws Exception {
        Worker a = new Worker();
        Worker b = new Worker();
        RunMount shared = cacheMount("/cache", "pip", "shared");
        RunMount privately = cacheMount("/cache", "pip", "private");
        a.run(shared, "echo wheel > /cache/wheel");
        b.run(shared, "true"); // b has its own copy of the mount now
        double fetchedBefore =
                b.metrics.counter("stagefarm.worker.cache.mount.fetched.files").count();

        List<String> seen;
        // a step on worker a is still using the mount
        try (SharedCacheMounts.Session busy =
                a.shared.open("", "pip", "shared", new SharedCacheMounts.RootOptions(0, 0, 0755))) {
            seen = b.run(privately, "cat /cache/wheel; echo mine > /cache/private-file; ls /cache");
        }
        assertThat(seen).containsExactly("wheel", "private-file", "wheel");
        assertThat(b.metrics
                        .counter("stagefarm.worker.cache.mount.fetched.files")
                        .count())
                .as("the private copy came from b's own copy, not the network")
                .isEqualTo(fetchedBefore);
        assertThat(new Worker().run(shared, "ls /cache"))
                .as("the private copy's file is gone")
                .containsExactly("wheel");

        b.run(privately, "echo alone > /cache/private-file");
        assertThat(new Worker().run(shared, "ls /cache"))
                .as("not busy: the PRIVATE step owns the mount")
                .containsExactly("private-file", "wheel");
    }

    // ---- helpers ----

    private static RunMount cacheMount(String target, String id, String sharing) {
        return RunMount.newBuilder()
                .setTarget(target)
                .setCache(CacheMount.newBuilder().setId(id).setSharing(sharing).setMode(0755))
                .build();
    }

    /** A worker's cache-mount machinery under a root of its own, sharing the one cache-server. */
    private static final class Worker {
        final Path root;
        final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        final SharedCacheMounts shared;
        final RunMounts mounts;

        Worker() throws Exception {
            root = Files.createDirectory(tmp.resolve("worker-" + ++workers));
            shared = new SharedCacheMounts(
                    root.resolve("cache-mounts"),
                    cache,
                    new MountSyncMetrics(metrics),
                    SharedCacheMounts.MAX_FILE_BYTES);
            mounts = new RunMounts(
                    root.resolve("local-caches"), root.resolve("run-scratch"), null, null, null, null, shared);
        }

        List<String> run(RunMount mount, String script) throws Exception {
            Path rootfs = BusyboxRootfs.create(Files.createTempDirectory(root, "rootfs-"));
            try (RunMounts.Prepared p = mounts.prepare(Job.getDefaultInstance(), List.of(mount), new AtomicLong())) {
                List<String> out = new ArrayList<>();
                ExecResult r = runc.run(
                        rootfs,
                        new ProcessSpec(List.of("sh", "-c", script), List.of(), "/", "", "default", p.mounts),
                        out::add,
                        TIMEOUT);
                assertThat(r.exitCode()).as(String.join("\n", out)).isZero();
                return out;
            }
        }

        List<String> runUnchecked(RunMount mount, String script) {
            try {
                return run(mount, script);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }
    }
}
