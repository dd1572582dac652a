package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker killed in the middle of a job costs time, never the build: the job runs elsewhere. */
@Tag("e2e")
class FailoverEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void theJobOfAKilledWorkerRunsAgainOnAnother() throws Exception {
        Path ctx = Path.of("src/test/resources/failover").toAbsolutePath();
        try (Farm farm = new Farm(dir, "w1", "w2")) {
            Path out = dir.resolve("build.log");
            Path meta = dir.resolve("meta.json");
            Process build = farm.startBuild(out, "--no-cache", "--metadata-file", meta.toString(), ctx.toString());

            String victim = awaitWorkerRunning(out);
            farm.kill(victim);

            Farm.Result result = farm.await(build, out);
            result.assertOk();
            JsonNode stage = Images.stage(Images.metadata(meta), "stage-0");
            assertThat(stage.path("worker").asText())
                    .as("the stage finished on the surviving worker")
                    .isNotEqualTo(victim)
                    .isIn("w1", "w2");

            // the killed worker left its container and overlay mounts behind; restarted on the same
            // root, it clears them before taking work
            Path victimRoot = dir.resolve("workers").resolve(victim).toRealPath();
            farm.startWorker(victim);
            awaitNoMountsBelow(victimRoot);
        }
    }

    private static void awaitNoMountsBelow(Path root) throws Exception {
        Instant deadline = Instant.now().plusSeconds(60);
        while (true) {
            long mounts = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(l -> l.split(" ")[4])
                    .filter(p -> p.startsWith(root + "/"))
                    .count();
            if (mounts == 0) {
                return;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError(mounts + " mounts left below " + root + " after the worker restarted");
            }
            Thread.sleep(200);
        }
    }

    /** Waits until progress says which worker runs the RUN step. */
    private static String awaitWorkerRunning(Path out) throws Exception {
        Pattern running = Pattern.compile("RUN sleep 6 .*\\(on (w\\d)\\)");
        Instant deadline = Instant.now().plusSeconds(120);
        while (Instant.now().isBefore(deadline)) {
            if (Files.exists(out)) {
                Matcher m = running.matcher(Files.readString(out));
                if (m.find()) {
                    return m.group(1);
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the RUN step never started:\n" + Files.readString(out));
    }
}
