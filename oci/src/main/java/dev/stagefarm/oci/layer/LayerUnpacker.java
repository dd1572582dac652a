package dev.stagefarm.oci.layer;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.io.MeteredInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts a layer (gzip or plain tar, told apart by their magic bytes) into a directory, in one of two
 * forms:
 * <ul>
 *   <li>{@link Mode#OVERLAY}: the directory becomes an overlayfs lowerdir. {@code .wh.<name>} turns into a
 *       whiteout device, {@code .wh..wh..opq} into the opaque xattr on its directory.</li>
 *   <li>{@link Mode#FLAT}: the layer is applied onto a complete rootfs (export, inspection): a whiteout deletes
 *       its path, an opaque marker empties its directory of what earlier layers put there.</li>
 * </ul>
 * Entries that would land outside the directory ("../", or through a symlink, absolute or not) are refused;
 * each is created through a descriptor of its parent directory, so nothing outside is ever written, even
 * while someone swaps a directory of it for a link.
 * On any failure, including a digest mismatch found at the end, the directory holds partial content and
 * must be discarded: extract into a fresh directory and rename it into place on success.
 */
public final class LayerUnpacker {

    public enum Mode {
        OVERLAY,
        FLAT
    }

    /** What was read: {@code digest} and {@code size} of the bytes as given (compressed), {@code diffId} of the tar. */
    public record Result(Digest digest, Digest diffId, long size, long entries) {}

    public Result unpack(Path layer, Path dest, Mode mode, Digest expectedDigest) throws IOException {
        return unpack(layer, dest, mode, expectedDigest, UnpackMeter.NONE);
    }

    /** As {@link #unpack(Path, Path, Mode, Digest)}, telling {@code meter} what it costs as it goes. */
    public Result unpack(Path layer, Path dest, Mode mode, Digest expectedDigest, UnpackMeter meter)
            throws IOException {
        try (InputStream in = Files.newInputStream(layer)) {
            return unpack(in, dest, mode, expectedDigest, meter);
        }
    }

    /** The tar inside {@code layer}: gzip and zstd are told apart from a plain tar by their magic bytes. */
    public static InputStream decompressed(InputStream layer) throws IOException {
        BufferedInputStream peek = new BufferedInputStream(layer, 1 << 16);
        peek.mark(4);
        byte[] magic = peek.readNBytes(4);
        peek.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(peek, 1 << 16);
        }
        if (magic.length == 4
                && (magic[0] & 0xff) == 0x28
                && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return new com.github.luben.zstd.ZstdInputStream(peek);
        }
        return peek;
    }

    /**
     * @param expectedDigest the digest the bytes of {@code layer} must have, or null to skip the check
     */
    public Result unpack(InputStream layer, Path dest, Mode mode, Digest expectedDigest) throws IOException {
        return unpack(layer, dest, mode, expectedDigest, UnpackMeter.NONE);
    }

    /**
     * @param meter told of every byte and entry as it goes; what it throws stops the unpack, leaving
     *     {@code dest} partial (to be discarded, as on any failure)
     */
    public Result unpack(InputStream layer, Path dest, Mode mode, Digest expectedDigest, UnpackMeter meter)
            throws IOException {
        Files.createDirectories(dest);
        HashingInputStream raw = new HashingInputStream(new MeteredInputStream(layer, meter::compressed));
        InputStream tarStream = new MeteredInputStream(decompressed(raw), meter::expanded);
        HashingInputStream tarBytes = new HashingInputStream(tarStream);
        TarArchiveInputStream tar = new TarArchiveInputStream(tarBytes, "UTF-8");
        InputStream content = new MeteredInputStream(tar, meter::written);
        long entries = 0;
        try (EntryApplier applier = new EntryApplier(dest, mode)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                meter.entry();
                applier.apply(e, content);
                entries++;
            }
            applier.finish();
        }
        tarBytes.drain();
        raw.drain();
        Digest actual = raw.digest();
        if (expectedDigest != null && !expectedDigest.equals(actual)) {
            throw new IOException("layer " + expectedDigest + " is corrupt: its bytes have digest " + actual
                    + "; discard " + dest + " and fetch the layer again");
        }
        return new Result(actual, tarBytes.digest(), raw.count(), entries);
    }
}
