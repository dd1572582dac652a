package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Within a build the queue runs the longest chain of work first, weighted by what the steps took
 * when a real worker last ran them (issue 12, requirement 1): real processes, runc, one slot.
 */
@Tag("e2e")
class CriticalPathEndToEndTest {

    /** Stage "many": three quick steps; stage "one": a single long one; the target copies from both. */
    private static final String DOCKERFILE = """
            FROM busybox AS many
            RUN echo %s > /many-1
            RUN echo two > /many-2
            RUN echo three > /many-3
            FROM busybox AS one
            RUN sleep 30 && echo one > /one
            FROM busybox
            COPY --from=many /many-1 /many-3 /
            COPY --from=one /one /
            """;

    private static final Pattern TWO_QUEUED = Pattern.compile("(?m)^stagefarm_jobs_queued\\{[^}]*} 2\\.0$");

    @TempDir
    Path dir;

    @Test
    void theNextBuildRunsFirstTheStageWhoseOneStepTookLongest() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        // the nonce keeps the steps out of any cache an earlier run left
        Files.writeString(ctx.resolve("Dockerfile"), DOCKERFILE.formatted(UUID.randomUUID()));
        // no worker at first: both stages wait in the queue, then a one-slot worker takes them in its order
        try (Farm farm = new Farm(dir, Farm.Security.NONE, List.of("--worker-wait", "0"))) {
            assertThat(firstStage(farm, ctx, "w1", "first"))
                    .as("nothing recorded: the stage with more steps")
                    .isEqualTo("many");
            farm.stop("w1");

            assertThat(firstStage(farm, ctx, "w2", "second", "--no-cache"))
                    .as("the first build recorded 30 s for one's step, a few seconds for many's three")
                    .isEqualTo("one");
        }
    }

    /** Builds with both first stages queued before {@code worker} (one slot) joins; returns the one it ran first. */
    private String firstStage(Farm farm, Path ctx, String worker, String round, String... flags) throws Exception {
        Path meta = dir.resolve(round + ".json");
        Path out = dir.resolve(round + ".log");
        List<String> args = new ArrayList<>(List.of(flags));
        args.addAll(List.of(
                "-t",
                "critpath:e2e",
                "--output",
                "type=oci,dest=" + dir.resolve(round + ".oci.tar"),
                "--metadata-file",
                meta.toString(),
                ctx.toString()));
        Process build = farm.startBuild(out, args.toArray(String[]::new));
        await("both first stages queued")
                .atMost(Duration.ofSeconds(120))
                .until(() -> TWO_QUEUED.matcher(farm.coordinatorMetrics()).find());
        farm.startWorker(worker, "--slots", "1");
        farm.await(build, out).assertOk();

        JsonNode metadata = Images.metadata(meta);
        Instant many =
                Instant.parse(Images.stage(metadata, "many").path("startedAt").asText());
        Instant one =
                Instant.parse(Images.stage(metadata, "one").path("startedAt").asText());
        return many.isBefore(one) ? "many" : "one";
    }
}
