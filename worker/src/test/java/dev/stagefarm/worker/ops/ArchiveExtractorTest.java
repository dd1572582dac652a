package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ADD's archive detection by content: plain, gzip, bzip2 and xz tars, whatever their names. */
@Tag("root")
class ArchiveExtractorTest {

    @TempDir
    Path tmp;

    final ArchiveExtractor archives = new ArchiveExtractor();

    @Test
    void everyCompressionBuildKitDetectsIsExtracted() throws Exception {
        for (String kind : new String[] {
            "plain", CompressorStreamFactory.GZIP, CompressorStreamFactory.BZIP2, CompressorStreamFactory.XZ
        }) {
            // a misleading name: detection goes by content
            Path archive = tmp.resolve(kind + ".bin");
            Files.write(archive, compress(kind, tar("d/file.txt", "inside\n")));
            Path dest = Files.createDirectories(tmp.resolve("out-" + kind));

            assertThat(archives.isArchive(archive)).as(kind).isTrue();
            archives.extract(archive, dest, Optional.empty());

            assertThat(dest.resolve("d/file.txt")).as(kind).hasContent("inside\n");
        }
    }

    @Test
    void compressedTextAndOtherCompressionsAreNotArchives() throws Exception {
        Path xzText = tmp.resolve("notes.tar.xz");
        Files.write(xzText, compress(CompressorStreamFactory.XZ, "just text\n".getBytes(StandardCharsets.UTF_8)));
        // Docker does not unpack a zstd-compressed tar: ADD copies it
        Path zstdTar = tmp.resolve("data.tar.zst");
        Files.write(zstdTar, compress(CompressorStreamFactory.ZSTANDARD, tar("z/a.txt", "a\n")));

        assertThat(archives.isArchive(xzText)).isFalse();
        assertThat(archives.isArchive(zstdTar)).isFalse();
    }

    private static byte[] compress(String kind, byte[] data) throws Exception {
        if (kind.equals("plain")) {
            return data;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new CompressorStreamFactory().createCompressorOutputStream(kind, bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    private static byte[] tar(String name, String content) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry dir = new TarArchiveEntry(name.substring(0, name.indexOf('/') + 1));
            dir.setMode(040755);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setSize(data.length);
            e.setMode(0100644);
            tar.putArchiveEntry(e);
            tar.write(data);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }
}
