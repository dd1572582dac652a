package dev.stagefarm.cacheserver.store;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The CRC32C trailer every stored chunk carries. A blob's sha256 is checked once, when its
 * upload commits; from then on each chunk read is checked against the checksum written with
 * it, so a chunk that changed at rest is caught before any of its bytes are sent. CRC32C runs
 * on the CPU's own instruction at many GB/s, where a second sha256 pass on the server would
 * cost as much CPU as the client's end-to-end check (see README, "Reads").
 */
public final class ChunkSeal {

    public static final int TRAILER = Integer.BYTES;

    private ChunkSeal() {}

    /** Writes the checksum of {@code sealed[0, length)} into {@code sealed[length, length + 4)}. */
    static byte[] sealInPlace(byte[] sealed, int length) {
        ByteBuffer.wrap(sealed, length, TRAILER).putInt(checksum(sealed, length));
        return sealed;
    }

    /** A new sealed copy of {@code data[from, to)}. */
    static byte[] seal(byte[] data, int from, int to) {
        byte[] sealed = new byte[to - from + TRAILER];
        System.arraycopy(data, from, sealed, 0, to - from);
        return sealInPlace(sealed, to - from);
    }

    /**
     * The chunk's bytes when {@code stored[0, storedLength)} is {@code expectedLength} bytes plus
     * a matching trailer, as a view of {@code stored} (a direct buffer when it was read for a
     * socket); null otherwise.
     */
    static ByteBuffer open(ByteBuffer stored, int storedLength, int expectedLength) {
        if (storedLength != expectedLength + TRAILER) {
            return null;
        }
        ByteBuffer data = stored.slice(0, expectedLength);
        CRC32C crc = new CRC32C();
        crc.update(data.duplicate());
        return (int) crc.getValue() == stored.getInt(expectedLength) ? data : null;
    }

    private static int checksum(byte[] data, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, 0, length);
        return (int) crc.getValue();
    }
}
