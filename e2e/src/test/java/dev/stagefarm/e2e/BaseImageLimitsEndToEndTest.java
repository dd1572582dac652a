package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.testing.HandWrittenTar;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build author publishes base images no worker should unpack: a layer bigger than the worker
 * pulls, and a decompression bomb (a small gzip of a huge file of zeros). On a farm of processes
 * whose worker has small {@code --max-layer-size} and {@code --max-layer-ratio}, each build FROM
 * them fails with one sentence naming the layer and the flag to raise, the bomb's partial unpack
 * does not stay on the worker's disk, and the same worker builds the next Dockerfile.
 */
@Tag("e2e")
class BaseImageLimitsEndToEndTest {

    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void baseImagesOverTheWorkersLimitsFailTheirBuildsAndTheWorkerServesTheNext() throws Exception {
        String tag = Long.toString(System.nanoTime());
        // random bytes do not compress: a 6 MiB layer, as its manifest declares
        byte[] noise = new byte[(int) (6 * MIB)];
        new Random(11).nextBytes(noise);
        RawImagePush.push("e2e/huge-layer", tag, List.of(new HandWrittenTar().file("noise.bin", noise)));
        // 96 MiB of zeros in ~100 KiB of gzip: within --max-layer-size, a ratio of ~1000
        RawImagePush.push("e2e/bomb-layer", tag, List.of(new HandWrittenTar().zeros("zeros.bin", 96 * MIB)));

        try (Farm farm = new Farm(dir)) {
            farm.startWorker("wlim", "--slots", "1", "--max-layer-size", "4MiB", "--max-layer-ratio", "10");
            farm.awaitWorkers("wlim");
            Path root = dir.resolve("workers/wlim");

            Farm.Result huge = farm.build(context("huge", Farm.REGISTRY + "/e2e/huge-layer:" + tag, "COPY a /a"));
            assertThat(huge.exitCode()).as(huge.output()).isNotZero();
            assertThat(huge.output())
                    .containsPattern("layer sha256:[0-9a-f]{64} of " + Farm.REGISTRY + "/e2e/huge-layer is 6\\.0 MiB"
                            + " compressed, more than 4\\.0 MiB, this worker's --max-layer-size: use another base"
                            + " image, or raise --max-layer-size on the workers if the image is genuine");

            Farm.Result bomb = farm.build(context("bomb", Farm.REGISTRY + "/e2e/bomb-layer:" + tag, "COPY a /a"));
            assertThat(bomb.exitCode()).as(bomb.output()).isNotZero();
            assertThat(bomb.output())
                    .containsPattern("layer sha256:[0-9a-f]{64} of " + Farm.REGISTRY + "/e2e/bomb-layer expands more"
                            + " than 10 times its compressed [0-9.]+ KiB \\(a decompression bomb\\?\\), this worker's"
                            + " --max-layer-ratio: use another base image, or raise --max-layer-ratio on the workers");
            // the unpack stopped past the 32 MiB grace and its snapshot was discarded
            assertThat(du(root)).as("the worker's directory after the bomb").isLessThan(16 * MIB);

            Farm.Result next = farm.build(context("next", "busybox:latest", "RUN echo served > /served"))
                    .assertOk();
            assertThat(next.output()).doesNotContain("--max-layer");
        }
    }

    private String context(String name, String from, String step) throws IOException {
        Path ctx = Files.createDirectories(dir.resolve("contexts").resolve(name));
        Files.writeString(ctx.resolve("a"), "a\n", StandardCharsets.UTF_8);
        Files.writeString(ctx.resolve("Dockerfile"), "FROM " + from + "\n" + step + "\n", StandardCharsets.UTF_8);
        return ctx.toString();
    }

    /** What du says the directory takes, in bytes. */
    private static long du(Path root) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("du", "-sxB1", root.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("du %s", root).isZero();
        return Long.parseLong(out.split("\\s+")[0]);
    }
}
