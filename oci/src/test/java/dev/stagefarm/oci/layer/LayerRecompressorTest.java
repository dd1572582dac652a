package dev.stagefarm.oci.layer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** zstd inside the farm, gzip for images that leave it: the tar, and so the diffID, never changes. */
class LayerRecompressorTest {

    @TempDir
    Path dir;

    @Test
    void zstdLayersUnpackAndRecompressToGzipWithTheSameDiffId() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree/app"));
        Files.writeString(tree.resolve("main"), "binary ".repeat(10_000));
        Files.createSymbolicLink(tree.resolve("link"), Path.of("main"));

        LayerBlob zstd = new LayerWriter(LayerWriter.Options.zstd())
                .writeDirectory(dir.resolve("tree"), dir.resolve("layer.zst"));
        LayerBlob gzip = new LayerWriter(LayerWriter.Options.defaults())
                .writeDirectory(dir.resolve("tree"), dir.resolve("layer.gz"));
        assertThat(zstd.diffId()).as("same tar, whatever the codec").isEqualTo(gzip.diffId());
        assertThat(Files.readAllBytes(zstd.file())).startsWith((byte) 0x28, (byte) 0xb5, (byte) 0x2f, (byte) 0xfd);
        assertThat(zstd.size()).isLessThan(70_000 / 10);

        LayerBlob converted = new LayerRecompressor(LayerWriter.Options.defaults())
                .recompress(zstd.file(), dir.resolve("converted.gz"));
        assertThat(converted.diffId()).isEqualTo(zstd.diffId());
        assertThat(converted.digest()).isEqualTo(gzip.digest()).isEqualTo(Digest.of(converted.file()));

        Path out = dir.resolve("unpacked");
        LayerUnpacker.Result r = new LayerUnpacker().unpack(zstd.file(), out, LayerUnpacker.Mode.FLAT, zstd.digest());
        assertThat(r.diffId()).isEqualTo(zstd.diffId());
        assertThat(Files.readString(out.resolve("app/main"))).isEqualTo("binary ".repeat(10_000));
        assertThat(Files.readSymbolicLink(out.resolve("app/link"))).isEqualTo(Path.of("main"));
    }

    @Test
    void zstdLayersAreReproducible() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("f"), "x".repeat(100_000));
        LayerWriter writer = new LayerWriter(LayerWriter.Options.zstd());
        assertThat(writer.writeDirectory(tree, dir.resolve("a")).digest())
                .isEqualTo(writer.writeDirectory(tree, dir.resolve("b")).digest());
    }
}
