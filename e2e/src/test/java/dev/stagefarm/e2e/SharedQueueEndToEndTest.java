package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A farm a team shares (issue 12), with real processes: the queue, identical work, cancel, drain. */
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
}
