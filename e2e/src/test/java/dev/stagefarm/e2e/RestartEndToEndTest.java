package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Servers that go away mid-build and come back (issue 12), with real processes: a coordinator
 * killed during a long RUN, a cache-server restarted during one. The build completes both times.
 */
@Tag("e2e")
class RestartEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void aCoordinatorKilledMidRunComesBackAndTheBuildCompletesWithoutRunningAnyStepTwice() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        String nonce = UUID.randomUUID().toString();
        // the nonce keeps both steps out of any cache; the stamp tells one run of the long step from two
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox\n"
                        + "RUN echo " + nonce + " > /first\n"
                        + "RUN echo " + nonce + " && sleep 15 && date +%s%N > /stamp\n");
        String workerMetrics = "127.0.0.1:" + Farm.freePort();
        try (Farm farm = new Farm(dir)) {
            farm.startWorker("w1", "--slots", "2", "--metrics", workerMetrics);
            farm.awaitWorkers("w1");
            Path out = dir.resolve("build.log");
            Path oci = dir.resolve("image.oci.tar");
            Process build =
                    farm.startBuild(out, "-t", "restart:e2e", "--output", "type=oci,dest=" + oci, ctx.toString());
            Waits.awaitWorkerRunning(out, "RUN echo " + nonce + " &&");

            farm.kill("coordinator"); // SIGKILL: nothing is handed over, nothing is saved
            farm.restart("coordinator");

            Farm.Result result = farm.await(build, out);
            result.assertOk();
            assertThat(result.output()).contains("coordinator went away; resubmitting (attempt 2 of 5)");
            assertThat(Prometheus.scrape(workerMetrics))
                    .as("the worker ran each RUN once: the first was a cache hit, the second adopted")
                    .contains("stagefarm_worker_steps_total{outcome=\"run\"} 2.0");
            Path rootfs = Images.unpackOci(oci, Files.createDirectories(dir.resolve("unpacked")), "e2e")
                    .resolve("rootfs");
            assertThat(rootfs.resolve("stamp")).exists();
            assertThat(Files.readString(rootfs.resolve("first")).trim()).isEqualTo(nonce);
            assertThat(Files.readString(dir.resolve("logs/w1.log")))
                    .as("the worker kept its job and told the new coordinator")
                    .contains("told the coordinator of 1 jobs from before it reconnected");
            assertThat(Files.readString(dir.resolve("logs/coordinator.log")))
                    .containsPattern("worker w1 runs job \\S+ .*still: adopted");
        }
    }

    @Test
    void aCacheServerRestartedMidRunIsRiddenOutAndTheBuildCompletes() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("cachectx"));
        String nonce = UUID.randomUUID().toString();
        // a layer of several MiB: its upload is a stream of chunks, not one message
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox\n"
                        + "RUN echo " + nonce + " && sleep 4 && head -c 6000000 /dev/urandom > /blob\n"
                        + "RUN ls -l /blob > /listing\n"
                        // a step opening a shared cache mount right after the outage
                        + "RUN --mount=type=cache,id=restart-" + nonce + ",target=/var/cache/r"
                        + " echo kept > /var/cache/r/note && cp /var/cache/r/note /mounted\n");
        try (Farm farm = new Farm(dir, "w1")) {
            Path out = dir.resolve("cache-restart.log");
            Path oci = dir.resolve("cache-restart.oci.tar");
            Process build = farm.startBuild(out, "-t", "cache:e2e", "--output", "type=oci,dest=" + oci, ctx.toString());
            Waits.awaitWorkerRunning(out, "RUN echo " + nonce);

            farm.stop("cache-server");
            // the outage: the RUN ends meanwhile, and its upload must wait for the server
            Thread.sleep(Duration.ofSeconds(15));
            farm.restart("cache-server");

            farm.await(build, out).assertOk();
            Path rootfs = Images.unpackOci(oci, Files.createDirectories(dir.resolve("cache-unpacked")), "e2e")
                    .resolve("rootfs");
            assertThat(Files.size(rootfs.resolve("blob"))).isEqualTo(6_000_000L);
            assertThat(rootfs.resolve("listing")).exists();
            assertThat(Files.readString(rootfs.resolve("mounted"))).isEqualTo("kept\n");
            assertThat(Files.readString(dir.resolve("logs/w1.log")))
                    .as("the worker waited for the cache-server")
                    .contains("unreachable; trying again for up to 45 s");
        }
    }
}
