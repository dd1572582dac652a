package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user does to a running build and an operator to a busy worker (issue 12), with real
 * processes: Ctrl-C on the CLI, and SIGTERM on a worker whose step outlasts its drain timeout.
 */
@Tag("e2e")
class FaultPathsEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void ctrlCOnTheCliLeavesNoContainerOnAnyWorkerWithinTwoSeconds() throws Exception {
        String marker = "ctrlc-" + UUID.randomUUID();
        Path ctx = Files.createDirectories(dir.resolve("ctrlc"));
        // two stages at once, so both workers run a container when the user presses Ctrl-C
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox AS left\nRUN echo " + marker + " left && sleep 120 && echo left > /left\n\n"
                        + "FROM busybox AS right\nRUN echo " + marker + " right && sleep 120 && echo right > /right\n\n"
                        + "FROM busybox\nCOPY --from=left /left /left\nCOPY --from=right /right /right\n");
        try (Farm farm = new Farm(dir, "w1", "w2")) {
            Path out = dir.resolve("ctrlc.log");
            Process build = farm.startBuildAsForegroundJob(out, "--progress=plain", ctx.toString());
            await("a container on each worker")
                    .atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> !farm.runcContainers("w1").isEmpty()
                            && !farm.runcContainers("w2").isEmpty()
                            && Steps.running(marker));

            // Ctrl-C in a shell signals the foreground job's process group
            new ProcessBuilder("kill", "-INT", "--", "-" + build.pid())
                    .inheritIO()
                    .start()
                    .waitFor();
            long interrupted = System.nanoTime();
            await("no container and no step process left")
                    .atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> farm.runcContainers("w1").isEmpty()
                            && farm.runcContainers("w2").isEmpty()
                            && !Steps.running(marker));
            Duration cleared = Duration.ofNanos(System.nanoTime() - interrupted);
            System.out.println("---- Ctrl-C to no container on any worker: " + cleared.toMillis() + " ms");
            assertThat(cleared)
                    .as("every container on every worker is gone within 2 s of Ctrl-C")
                    .isLessThan(Duration.ofSeconds(2));

            assertThat(build.waitFor(30, TimeUnit.SECONDS))
                    .as("the command ends on Ctrl-C")
                    .isTrue();
            assertThat(build.exitValue()).as(Files.readString(out)).isEqualTo(130);
            Farm.Result builds = farm.cli("builds", "--all", "--coordinator", farm.coordinator);
            assertThat(builds.output())
                    .as("the build is recorded as cancelled")
                    .containsPattern("\\S+\\s+\\S+\\s+CANCELLED");
            assertThat(farm.workers())
                    .as("both workers free again")
                    .allSatisfy(w -> assertThat(w.getRunningJobs()).isZero());
        }
    }

    @Test
    void aStepThatOutlastsTheDrainTimeoutIsHandedBackAndFinishesOnAnotherWorker() throws Exception {
        String marker = "handback-" + UUID.randomUUID();
        Path ctx = Files.createDirectories(dir.resolve("handback"));
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox\nRUN echo " + marker + " && sleep 8 && echo finished > /finished\n");
        try (Farm farm = new Farm(dir)) {
            // a drain timeout far shorter than the 8 s step
            farm.startWorker("w1", "--drain-timeout", "2");
            farm.startWorker("w2", "--drain-timeout", "2");
            farm.awaitWorkers("w1", "w2");
            Path out = dir.resolve("handback.log");
            Path meta = dir.resolve("meta.json");
            Path image = dir.resolve("image");
            Process build = farm.startBuild(
                    out,
                    "--progress=plain",
                    "--metadata-file",
                    meta.toString(),
                    "--output",
                    "type=local,dest=" + image,
                    ctx.toString());
            String victim = Waits.awaitWorkerRunning(out, "RUN echo ");
            String other = victim.equals("w1") ? "w2" : "w1";
            await("the step running on " + victim)
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> !farm.runcContainers(victim).isEmpty());

            farm.signal(victim, "TERM");

            assertThat(farm.awaitExit(victim, Duration.ofSeconds(30)))
                    .as("the draining worker exits 0 after handing its job back")
                    .isZero();
            assertThat(farm.runcContainers(victim))
                    .as("the draining worker left no container")
                    .isEmpty();
            Farm.Result result = farm.await(build, out);
            result.assertOk();
            assertThat(result.output())
                    .as("the handed-back step ran again on the other worker")
                    .containsPattern("RUN echo .*\\(on " + other + "\\)");
            JsonNode stage = Images.stage(Images.metadata(meta), "stage-0");
            assertThat(stage.path("worker").asText()).isEqualTo(other);
            assertThat(Files.readString(image.resolve("finished"))).isEqualTo("finished\n");
        }
    }

    /** Step processes, found by the marker their command line carries. */
    private static final class Steps {
        static boolean running(String marker) throws IOException {
            try (var procs = Files.list(Path.of("/proc"))) {
                return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                        .anyMatch(p -> {
                            try {
                                return new String(Files.readAllBytes(p.resolve("cmdline"))).contains(marker);
                            } catch (IOException gone) {
                                return false;
                            }
                        });
            }
        }
    }
}
