package dev.stagefarm.worker.baseimage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.layer.LayerUnpacker;
import dev.stagefarm.oci.testing.HandWrittenTar;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A base image's layer unpacked by the real unpacker within a worker's limits: each limit stops a
 * layer over it part way, with the sentence naming the layer and the flag; a layer within them
 * unpacks whole.
 */
class UnpackBudgetTest {

    private static final long MIB = 1 << 20;
    private static final String NAME = "sha256:abc of 127.0.0.1:5000/e2e/hostile";

    @TempDir
    Path tmp;

    private final LayerUnpacker unpacker = new LayerUnpacker();

    @Test
    void aLayerWithinTheLimitsUnpacksWhole() throws Exception {
        Path layer = layer("ok.tar.gz", tar -> {
            tar.file("etc/motd", "hello\n").zeros("big.bin", 2 * MIB);
        });
        LayerLimits tight = new LayerLimits(MIB, MIB, 3 * MIB, 10, 100);

        Path dest = tmp.resolve("ok");
        LayerUnpacker.Result r =
                unpacker.unpack(layer, dest, LayerUnpacker.Mode.FLAT, null, new UnpackBudget(tight, NAME));

        assertThat(dest.resolve("etc/motd")).hasContent("hello");
        assertThat(Files.size(dest.resolve("big.bin"))).isEqualTo(2 * MIB);
        assertThat(r.entries()).isEqualTo(2);
    }

    @Test
    void aDecompressionBombStopsPastTheGraceAtTheRatio() throws Exception {
        // 64 MiB of zeros gzip to ~64 KiB: a ratio of ~1000
        Path bomb = layer("bomb.tar.gz", tar -> tar.zeros("zeros.bin", 64 * MIB));
        assertThat(Files.size(bomb)).isLessThan(MIB);
        LayerLimits limits = new LayerLimits(8 * MIB, 8 * MIB, 1L << 30, 1000, 10);

        Path dest = tmp.resolve("bomb");
        assertThatThrownBy(() ->
                        unpacker.unpack(bomb, dest, LayerUnpacker.Mode.FLAT, null, new UnpackBudget(limits, NAME)))
                .isInstanceOf(LayerLimitException.class)
                .hasMessageStartingWith("layer " + NAME + " expands more than 10 times its compressed ")
                .hasMessageContaining("(a decompression bomb?), this worker's --max-layer-ratio: use another base"
                        + " image, or raise --max-layer-ratio on the workers if the image is genuine");
        // stopped a buffer or two past the grace, not at the end of the 64 MiB
        assertThat(Files.size(dest.resolve("zeros.bin"))).isLessThan(LayerLimits.RATIO_GRACE_BYTES + 2 * MIB);
    }

    @Test
    void aLayerThatUnpacksTooBigStopsAtTheUnpackedLimit() throws Exception {
        Path layer = layer("big.tar.gz", tar -> tar.zeros("zeros.bin", 8 * MIB));
        LayerLimits limits = new LayerLimits(8 * MIB, 8 * MIB, 4 * MIB, 1000, 100_000);

        assertThatThrownBy(() -> unpacker.unpack(
                        layer, tmp.resolve("big"), LayerUnpacker.Mode.FLAT, null, new UnpackBudget(limits, NAME)))
                .isInstanceOf(LayerLimitException.class)
                .hasMessage("layer " + NAME + " unpacks to more than 4.0 MiB, this worker's --max-layer-unpacked-size:"
                        + " use another base image, or raise --max-layer-unpacked-size on the workers if the image"
                        + " is genuine");
    }

    @Test
    void aLayerOfTooManyFilesStopsAtTheEntryLimit() throws Exception {
        Path layer = layer("many.tar.gz", tar -> {
            for (int i = 0; i < 50; i++) {
                tar.file("f/" + i, new byte[0]);
            }
        });
        LayerLimits limits = new LayerLimits(8 * MIB, 8 * MIB, 8 * MIB, 20, 100);

        Path dest = tmp.resolve("many");
        assertThatThrownBy(() ->
                        unpacker.unpack(layer, dest, LayerUnpacker.Mode.FLAT, null, new UnpackBudget(limits, NAME)))
                .isInstanceOf(LayerLimitException.class)
                .hasMessageStartingWith(
                        "layer " + NAME + " holds more than 20 files, this worker's" + " --max-layer-entries");
        try (var files = Files.list(dest.resolve("f"))) {
            assertThat(files.count()).isEqualTo(20);
        }
    }

    @Test
    void aLayerBiggerThanItsDescriptorSaidStopsAtTheCompressedLimit() throws Exception {
        // random bytes do not compress: the blob itself is over the limit
        byte[] noise = new byte[(int) (2 * MIB)];
        new java.util.Random(42).nextBytes(noise);
        Path layer = layer("noise.tar.gz", tar -> tar.file("noise.bin", noise));
        LayerLimits limits = new LayerLimits(MIB, MIB, 8 * MIB, 1000, 100);

        assertThatThrownBy(() -> unpacker.unpack(
                        layer, tmp.resolve("noise"), LayerUnpacker.Mode.FLAT, null, new UnpackBudget(limits, NAME)))
                .isInstanceOf(LayerLimitException.class)
                .hasMessageStartingWith(
                        "layer " + NAME + " is more than 1.0 MiB compressed, this worker's" + " --max-layer-size");
    }

    private interface Entries {
        void write(HandWrittenTar tar) throws IOException;
    }

    private Path layer(String name, Entries entries) throws IOException {
        Path file = tmp.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file), 1 << 16);
                HandWrittenTar tar = new HandWrittenTar(out)) {
            entries.write(tar);
        }
        return file;
    }
}
