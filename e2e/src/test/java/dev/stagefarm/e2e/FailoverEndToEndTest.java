package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
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

            String victim = Waits.awaitWorkerRunning(out, "RUN sleep 6 ");
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
            Waits.awaitNoMountsBelow(victimRoot);
        }
    }
}
