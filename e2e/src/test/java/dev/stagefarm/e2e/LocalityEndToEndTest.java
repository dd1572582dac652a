package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.WorkerInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Placement across builds: workers report what they hold, and the next build goes where its base is. */
@Tag("e2e")
class LocalityEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void aSecondBuildOfAnotherDockerfileLandsOnTheWorkerHoldingItsBase() throws Exception {
        try (Farm farm = new Farm(dir, "w2")) {
            build(farm, "first", "FROM debian:bookworm-slim\nRUN echo first > /first\n");
            // w1 joins only now; with nothing known it would win the tie by name
            farm.startWorker("w1");
            farm.awaitWorkers("w1", "w2");
            Awaitility.await("w2 reports the Debian base it holds")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> farm.workers().stream()
                                    .filter(w -> w.getName().equals("w2"))
                                    .mapToInt(WorkerInfo::getIndexedHoldings)
                                    .sum()
                            > 0);

            String second = build(farm, "second", "FROM debian:bookworm-slim\nRUN echo second > /second\n");
            assertThat(second)
                    .as("the worker that already holds debian's layers")
                    .isEqualTo("w2");
        }
    }

    /** Builds a one-stage Dockerfile; returns the worker its stage ran on. */
    private String build(Farm farm, String name, String dockerfile) throws Exception {
        Path context = Files.createDirectories(dir.resolve(name));
        Files.writeString(context.resolve("Dockerfile"), dockerfile);
        Path meta = dir.resolve(name + ".json");
        farm.build(
                        "-t",
                        "locality-" + name + ":e2e",
                        "--output",
                        "type=oci,dest=" + dir.resolve(name + ".oci.tar"),
                        "--metadata-file",
                        meta.toString(),
                        context.toString())
                .assertOk();
        return Images.stage(Images.metadata(meta), "stage-0").path("worker").asText();
    }
}
