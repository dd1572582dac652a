package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A farm a team shares (issue 12), with real processes: the queue, identical work, cancel, drain. */
@Tag("e2e")
class SharedQueueEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void twoIdenticalBuildsAtOnceOnAOneSlotWorkerRunTheirRunOnce() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        // the nonce keeps the step out of any cache; the stamp tells one run from two
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox\nRUN echo " + UUID.randomUUID() + " && sleep 3 && date +%s%N > /stamp\n");
        String workerMetrics = "127.0.0.1:" + Farm.freePort();
        try (Farm farm = new Farm(dir)) {
            farm.startWorker("w1", "--slots", "1", "--metrics", workerMetrics);
            farm.awaitWorkers("w1");
            Path ociA = dir.resolve("a.oci.tar");
            Path ociB = dir.resolve("b.oci.tar");
            Path outA = dir.resolve("a.log");
            Path outB = dir.resolve("b.log");
            Process a = farm.startBuild(outA, "-t", "shared:e2e", "--output", "type=oci,dest=" + ociA, ctx.toString());
            Process b = farm.startBuild(outB, "-t", "shared:e2e", "--output", "type=oci,dest=" + ociB, ctx.toString());
            farm.await(a, outA).assertOk();
            farm.await(b, outB).assertOk();

            String stampA = Files.readString(Images.unpackOci(ociA, Files.createDirectories(dir.resolve("ua")), "e2e")
                    .resolve("rootfs/stamp"));
            String stampB = Files.readString(Images.unpackOci(ociB, Files.createDirectories(dir.resolve("ub")), "e2e")
                    .resolve("rootfs/stamp"));
            assertThat(stampB).as("both builds got the one run's result").isEqualTo(stampA);
            assertThat(Prometheus.scrape(workerMetrics))
                    .as("the worker ran the RUN once")
                    .contains("stagefarm_worker_steps_total{outcome=\"run\"} 1.0");
            assertThat(farm.coordinatorMetrics()).contains("stagefarm_jobs_shared_total 1.0");
        }
    }

    @Test
    void aWorkerThatStopsAnsweringIsDeclaredDeadAndItsJobRunsElsewhere() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("stop"));
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox\nRUN echo " + UUID.randomUUID() + " && sleep 6 && echo survived > /survived\n");
        try (Farm farm = new Farm(dir, "w1", "w2")) {
            Path out = dir.resolve("stop.log");
            Process build = farm.startBuild(out, ctx.toString());
            String victim = Waits.awaitWorkerRunning(out, "RUN echo ");
            long stopped = System.nanoTime();
            // the process stays, its socket stays open: only keepalive can tell
            farm.signal(victim, "STOP");
            try {
                String other = victim.equals("w1") ? "w2" : "w1";
                await(victim + " declared dead")
                        .atMost(Duration.ofSeconds(60))
                        .until(() -> farm.workers().stream()
                                .noneMatch(w -> w.getName().equals(victim)));
                assertThat(Duration.ofNanos(System.nanoTime() - stopped))
                        .as("declared dead, its job queued again, within 15 s")
                        .isLessThan(Duration.ofSeconds(15));
                Farm.Result result = farm.await(build, out);
                result.assertOk();
                assertThat(result.output()).containsPattern("RUN echo .*\\(on " + other + "\\)");
            } finally {
                farm.signal(victim, "CONT");
            }
            // restarted on its root, the stopped worker clears what its lost job left mounted
            Path victimRoot = dir.resolve("workers").resolve(victim).toRealPath();
            farm.stop(victim);
            farm.startWorker(victim);
            Waits.awaitNoMountsBelow(victimRoot);
        }
    }

    @Test
    void sigtermDrainsAWorkerItsJobFinishesThereOnceAndItExitsZero() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("drain"));
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox\nRUN echo " + UUID.randomUUID() + " && sleep 8 && echo drained > /drained\n");
        try (Farm farm = new Farm(dir, "w1", "w2")) {
            Path out = dir.resolve("drain.log");
            Process build = farm.startBuild(out, ctx.toString());
            String victim = Waits.awaitWorkerRunning(out, "RUN echo ");

            farm.signal(victim, "TERM");

            await(victim + " listed as DRAINING")
                    .atMost(Duration.ofSeconds(10))
                    .until(() ->
                            farm.workers().stream().anyMatch(w -> w.getName().equals(victim) && w.getDraining()));
            Farm.Result result = farm.await(build, out);
            result.assertOk();
            assertThat(result.output())
                    .as("the RUN finished on the draining worker, and ran once")
                    .containsOnlyOnce("RUN echo")
                    .contains("(on " + victim + ")");
            assertThat(farm.awaitExit(victim, Duration.ofSeconds(30))).isZero();
        }
    }
}
