package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stage whose layers no stage takes (only a file is copied from it) reports its result before
 * its last layer is stored, so that the build goes on meanwhile, with real workers and runc. The
 * layer is still stored: a build right after finds the step cached. The coordinator holds such a
 * lookup until the worker says the layer is stored (ResultBeforeStoreTest shows that wait step by
 * step); here the layer is large (60 MB of random bytes), so that its store may still run when
 * the second build is planned.
 */
@Tag("e2e")
class StoreAfterResultEndToEndTest {

    private static final String BIG_RUN = "RUN dd if=/dev/urandom of=/big bs=1048576 count=60";

    @TempDir
    Path dir;

    @Test
    void aBuildRightAfterAnotherFindsTheStepStoredAfterItsResultCached() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM busybox AS big
                ARG NONCE
                %s 2>/dev/null && echo "$NONCE" > /small

                FROM busybox
                COPY --from=big /small /small
                """.formatted(BIG_RUN));
        try (Farm farm = new Farm(dir, "w1")) {
            String nonce = "NONCE=" + System.nanoTime();
            String first = farm.build("--progress=plain", "--build-arg", nonce, ctx.toString())
                    .assertOk()
                    .output();
            assertThat(stepCached(first))
                    .as("the first build runs the step:%n%s", first)
                    .isFalse();

            String second = farm.build("--progress=plain", "--build-arg", nonce, ctx.toString())
                    .assertOk()
                    .output();
            assertThat(stepCached(second))
                    .as("the build right after finds the step cached:%n%s", second)
                    .isTrue();
        }
    }

    private static boolean stepCached(String output) {
        String line = output.lines()
                .filter(l -> l.contains(BIG_RUN))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no step " + BIG_RUN + " in:\n" + output));
        String id = line.substring(0, line.indexOf(' '));
        return output.contains("\n" + id + " CACHED\n");
    }
}
