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
    void aStageOneBuildCopiesFromAndAnotherBuildsFromRunsOnce() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("targets"));
        // the full build copies from "tools", `--target test` builds FROM it: two kinds of job
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM busybox AS tools
                RUN echo %s && sleep 3 && date +%%s%%N > /stamp
                FROM tools AS test
                RUN cp /stamp /tested
                FROM busybox
                COPY --from=tools /stamp /stamp
                """.formatted(UUID.randomUUID()));
        String workerMetrics = "127.0.0.1:" + Farm.freePort();
        try (Farm farm = new Farm(dir)) {
            farm.startWorker("w1", "--slots", "2", "--metrics", workerMetrics);
            farm.awaitWorkers("w1");
            Path ociFull = dir.resolve("full.oci.tar");
            Path ociTest = dir.resolve("test.oci.tar");
            Path outFull = dir.resolve("full.log");
            Path outTest = dir.resolve("test.log");
            Process full =
                    farm.startBuild(outFull, "-t", "full:e2e", "--output", "type=oci,dest=" + ociFull, ctx.toString());
            Waits.awaitWorkerRunning(outFull, "RUN echo ");
            Process test = farm.startBuild(
                    outTest,
                    "--target",
                    "test",
                    "-t",
                    "test:e2e",
                    "--output",
                    "type=oci,dest=" + ociTest,
                    ctx.toString());
            farm.await(full, outFull).assertOk();
            farm.await(test, outTest).assertOk();

            Path fullRoot = Images.unpackOci(ociFull, Files.createDirectories(dir.resolve("uf")), "e2e");
            Path testRoot = Images.unpackOci(ociTest, Files.createDirectories(dir.resolve("ut")), "e2e");
            assertThat(Files.readString(testRoot.resolve("rootfs/tested")))
                    .as("the test stage was built FROM the one run of tools")
                    .isEqualTo(Files.readString(fullRoot.resolve("rootfs/stamp")));
            assertThat(Prometheus.scrape(workerMetrics))
                    .as("tools' RUN once, with a free slot for a second run; the test stage's RUN; the final COPY")
                    .contains("stagefarm_worker_steps_total{outcome=\"run\"} 3.0");
            assertThat(Files.readString(outTest))
                    .as("the test build showed the full build's run of tools' RUN end, and not as cached")
                    .containsPattern("#\\d+ \\[tools 2/2\\] RUN echo [^\\n]*\\(on w1\\)\\n#\\d+ DONE")
                    .doesNotContainPattern("#\\d+ \\[tools 2/2\\] RUN echo [^\\n]*\\n#\\d+ CACHED");
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
