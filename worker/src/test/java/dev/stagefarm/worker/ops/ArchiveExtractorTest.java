package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ADD's archive detection by content (plain, gzip, bzip2 and xz tars, whatever their names), and
 * the worker's limits on what one archive may unpack: decompression bombs stop early.
 */
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

    @Test
    void aTinyGzipExpandingToGigabytesStopsAtTheRatioLimitAfterTensOfMegabytes() throws Exception {
        Path bomb = tmp.resolve("bomb.tar.gz");
        Files.write(bomb, gzipBomb("zeros.bin", 4L << 30));
        assertThat(Files.size(bomb)).isLessThan(8L << 20); // 4 GiB inside

        Path dest = Files.createDirectories(tmp.resolve("out-bomb"));
        assertThat(archives.isArchive(bomb)).isTrue();
        assertThatThrownBy(() -> archives.extract(bomb, dest, Optional.empty()))
                .isInstanceOf(CopyException.class)
                .hasMessage("archive bomb.tar.gz expands more than 100 times its own size (a decompression bomb?),"
                        + " this worker's --max-extract-ratio: raise --max-extract-ratio on the workers if it is"
                        + " genuine");
        assertThat(Files.size(dest.resolve("zeros.bin"))).isLessThan(InputLimits.RATIO_GRACE_BYTES + (1 << 20));
    }

    @Test
    void theTotalWrittenIsBoundedEvenWhereTheRatioWouldPass() throws Exception {
        Path bomb = tmp.resolve("big.tar.gz");
        Files.write(bomb, gzipBomb("zeros.bin", 1L << 30));
        ArchiveExtractor limited =
                new ArchiveExtractor(InputLimits.DEFAULTS.withExtract(64L << 20, 1_000_000, 1_000_000));
        Path dest = Files.createDirectories(tmp.resolve("out-big"));

        assertThatThrownBy(() -> limited.extract(bomb, dest, Optional.empty()))
                .isInstanceOf(CopyException.class)
                .hasMessage("archive big.tar.gz expands to more than 64.0 MiB, this worker's --max-extract-size:"
                        + " raise --max-extract-size on the workers if it is meant to be this big");
        assertThat(Files.size(dest.resolve("zeros.bin"))).isLessThanOrEqualTo(64L << 20);
    }

    @Test
    void tooManyEntriesAreRefused() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (int i = 0; i < 1_001; i++) {
                TarArchiveEntry e = new TarArchiveEntry("f" + i);
                e.setMode(0100644);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
            }
        }
        Path many = tmp.resolve("many.tar");
        Files.write(many, bytes.toByteArray());
        ArchiveExtractor limited = new ArchiveExtractor(InputLimits.DEFAULTS.withExtract(1L << 30, 1_000, 100));

        assertThatThrownBy(
                        () -> limited.extract(many, Files.createDirectories(tmp.resolve("out-many")), Optional.empty()))
                .isInstanceOf(CopyException.class)
                .hasMessage("archive many.tar holds more than 1000 entries, this worker's --max-extract-entries:"
                        + " raise --max-extract-entries on the workers if it is genuine");
    }

    @Test
    void aHugeLongNameHeaderIsRefusedBeforeItFillsMemory() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            // a GNU long-name record, as a tar would write for a 20 MiB name, then its entry
            TarArchiveEntry longName = new TarArchiveEntry("././@LongLink", TarConstants.LF_GNUTYPE_LONGNAME);
            byte[] name = "d/".repeat(10 << 20).getBytes(StandardCharsets.US_ASCII);
            longName.setSize(name.length);
            tar.putArchiveEntry(longName);
            tar.write(name);
            tar.closeArchiveEntry();
            TarArchiveEntry e = new TarArchiveEntry("f");
            e.setMode(0100644);
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
        }
        Path longName = tmp.resolve("long.tar");
        Files.write(longName, bytes.toByteArray());

        assertThatThrownBy(() ->
                        archives.extract(longName, Files.createDirectories(tmp.resolve("out-long")), Optional.empty()))
                .isInstanceOf(CopyException.class)
                .hasMessage(
                        "archive long.tar has an entry header over 16.0 MiB, which ADD does not extract: repack it");
    }

    @Test
    void linksInTheArchiveLeadNowhereOutsideTheDestination() throws Exception {
        Path host = Files.createDirectories(tmp.resolve("host"));
        Files.writeString(host.resolve("secret"), "host secret\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            symlink(tar, "up", "../../../../../../../../" + host);
            symlink(tar, "abs", host.toString());
            file(tar, "up/planted", "from the archive\n");
            file(tar, "abs/planted", "from the archive\n");
            TarArchiveEntry hard = new TarArchiveEntry("stolen", TarConstants.LF_LINK);
            hard.setLinkName(host.resolve("secret").toString());
            tar.putArchiveEntry(hard);
            tar.closeArchiveEntry();
        }
        Path archive = tmp.resolve("links.tar");
        Files.write(archive, bytes.toByteArray());
        Path dest = Files.createDirectories(tmp.resolve("out-links"));

        // the hard link names a file the destination does not have: refused, as in a chroot
        assertThatThrownBy(() -> archives.extract(archive, dest, Optional.empty()))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);

        assertThat(host).isDirectoryNotContaining("glob:**/planted");
        assertThat(host.resolve("secret")).hasContent("host secret\n");
        // both links were followed inside the destination, as Docker's chrooted untar does
        assertThat(dest.resolve(host.toString().substring(1)).resolve("planted"))
                .hasContent("from the archive\n");
    }

    @Test
    void aDirectorySwappedForALinkToTheHostDuringExtractionGetsNothingOutside() throws Exception {
        Path host = Files.createDirectories(tmp.resolve("host-race"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (int i = 0; i < 3_000; i++) {
                file(tar, "d/f" + i, "x");
            }
        }
        Path archive = tmp.resolve("race.tar");
        Files.write(archive, bytes.toByteArray());
        Path dest = Files.createDirectories(tmp.resolve("out-race"));
        Files.createDirectories(dest.resolve("d"));

        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread swapper = Thread.ofPlatform().start(() -> {
            // what a RUN step sharing the directory could do meanwhile
            while (!stop.get()) {
                try {
                    Files.move(dest.resolve("d"), dest.resolve("d.real"));
                    Files.createSymbolicLink(dest.resolve("d"), host);
                    Files.delete(dest.resolve("d"));
                    Files.move(dest.resolve("d.real"), dest.resolve("d"));
                } catch (IOException raced) {
                    // the extractor may have made d again in between: keep going
                }
            }
        });
        int attempts = 0;
        try {
            for (; attempts < 5; attempts++) {
                try {
                    archives.extract(archive, dest, Optional.empty());
                } catch (IOException raced) {
                    // a vanished parent fails the extraction; it must never write outside
                }
            }
        } finally {
            stop.set(true);
            swapper.join();
        }
        assertThat(host).isEmptyDirectory();
    }

    private static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        e.setMode(0100644);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    /**
     * A gzipped tar of one file of {@code size} zero bytes, built without compressing them: every
     * MiB of zeros after a full flush compresses to the same few hundred bytes, repeated.
     */
    static byte[] gzipBomb(String name, long size) throws IOException {
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        TarArchiveOutputStream tar = new TarArchiveOutputStream(header, 512); // one record a block: nothing held back
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(size);
        e.setMode(0100644);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.putArchiveEntry(e);
        tar.flush(); // the header only; the stream is dropped unfinished
        byte[] tarHeader = header.toByteArray();

        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        byte[] zeros = new byte[1 << 20];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3});
        out.write(deflate(deflater, tarHeader, Deflater.FULL_FLUSH));
        byte[] zeroChunk = deflate(deflater, zeros, Deflater.FULL_FLUSH);
        CRC32 crc = new CRC32();
        crc.update(tarHeader);
        long total = tarHeader.length;
        for (long left = size; left > 0; left -= zeros.length) {
            out.write(zeroChunk);
            crc.update(zeros);
            total += zeros.length;
        }
        byte[] end = new byte[1024]; // the tar's two empty end blocks
        deflater.setInput(end);
        deflater.finish();
        byte[] buf = new byte[4096];
        while (!deflater.finished()) {
            out.write(buf, 0, deflater.deflate(buf));
        }
        crc.update(end);
        total += end.length;
        ByteBuffer trailer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        trailer.putInt((int) crc.getValue()).putInt((int) total);
        out.write(trailer.array());
        return out.toByteArray();
    }

    private static byte[] deflate(Deflater deflater, byte[] data, int flush) {
        deflater.setInput(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        int n;
        do {
            n = deflater.deflate(buf, 0, buf.length, flush);
            out.write(buf, 0, n);
        } while (n == buf.length || !deflater.needsInput());
        return out.toByteArray();
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
