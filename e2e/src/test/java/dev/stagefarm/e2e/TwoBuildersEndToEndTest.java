package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Independent stages spread over workers; the final stage goes where the larger artifact is. */
@Tag("e2e")
class TwoBuildersEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void buildersRunAtOnceAndOnlyTheSmallArtifactTravels() throws Exception {
        try (Farm farm = new Farm(dir, "w1", "w2")) {
            Path meta = dir.resolve("meta.json");
            Path oci = dir.resolve("two.oci.tar");
            farm.build(
                            "-t",
                            "two-builders:e2e",
                            "--output",
                            "type=oci,dest=" + oci,
                            "--metadata-file",
                            meta.toString(),
                            Farm.REPO.resolve("examples/two-builders").toString())
                    .assertOk();
            JsonNode metadata = Images.metadata(meta);
            JsonNode tool = Images.stage(metadata, "tool");
            JsonNode data = Images.stage(metadata, "data");
            JsonNode fin = Images.stage(metadata, "stage-2");

            assertThat(tool.path("worker").asText())
                    .isNotEqualTo(data.path("worker").asText());
            assertThat(overlap(tool, data))
                    .as("the builders ran at the same time: %s %s", tool, data)
                    .isTrue();
            assertThat(fin.path("worker").asText())
                    .as("final stage on the holder of the 20 MB artifact")
                    .isEqualTo(data.path("worker").asText());
            long crossed = fin.path("fetchedBytes").asLong();
            assertThat(crossed)
                    .as("the 1.3 MB tool crossed, as a few megabytes at most")
                    .isPositive()
                    .isLessThan(5_000_000);

            Path work = Files.createDirectories(dir.resolve("unpack"));
            Path bundle = Images.unpackOci(oci, work, "e2e");
            assertThat(Files.size(bundle.resolve("rootfs/data/blob.bin"))).isEqualTo(20_000_000);
            assertThat(bundle.resolve("rootfs/usr/local/bin/checksum")).isExecutable();
        }
    }

    private static boolean overlap(JsonNode a, JsonNode b) {
        Instant aStart = Instant.parse(a.path("startedAt").asText());
        Instant aEnd = Instant.parse(a.path("finishedAt").asText());
        Instant bStart = Instant.parse(b.path("startedAt").asText());
        Instant bEnd = Instant.parse(b.path("finishedAt").asText());
        return aStart.isBefore(bEnd) && bStart.isBefore(aEnd);
    }
}
