package dev.stagefarm.cacheserver;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Key layouts of the RocksDB column families. */
final class Keys {

    static final int DIGEST_BYTES = 32;

    private Keys() {}

    /** {@code blob_meta} and {@code uploads}: the raw 32 digest bytes. */
    static byte[] digest(Digest digest) {
        return HexFormat.of().parseHex(digest.hex());
    }

    /**
     * The 32 bytes of a {@code sha256:<64 lowercase hex>} text, or null when it is not one.
     * FindMissing parses many thousands per call, so this is a plain loop, not a regex.
     */
    static byte[] sha256OrNull(String text) {
        if (text.length() != 7 + 2 * DIGEST_BYTES || !text.startsWith("sha256:")) {
            return null;
        }
        byte[] out = new byte[DIGEST_BYTES];
        for (int i = 0; i < DIGEST_BYTES; i++) {
            int hi = nibble(text.charAt(7 + 2 * i));
            int lo = nibble(text.charAt(8 + 2 * i));
            if ((hi | lo) < 0) {
                return null;
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    private static int nibble(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    }

    static Digest digest(byte[] key) {
        return Digest.fromBytes(key.length == DIGEST_BYTES ? key : java.util.Arrays.copyOf(key, DIGEST_BYTES));
    }

    /**
     * {@code blob_chunks}: digest bytes then the chunk index as 8 bytes big-endian, so a blob's
     * chunks sort together and in order (one range delete removes them all).
     */
    static byte[] chunk(Digest digest, long index) {
        return ByteBuffer.allocate(DIGEST_BYTES + Long.BYTES).put(digest(digest)).putLong(index).array();
    }

    /** Exclusive upper bound of every chunk key of {@code digest}. */
    static byte[] chunksEnd(Digest digest) {
        return chunk(digest, Long.MAX_VALUE);
    }

    /**
     * {@code blob_lru}: last-access time (ms, 8 bytes big-endian) then the digest, so iterating
     * from the first key visits blobs least recently used first. Kept in step with the
     * {@code blob_meta} row's last-access time, in the same write batches.
     */
    static byte[] lru(long accessMillis, Digest digest) {
        return ByteBuffer.allocate(Long.BYTES + DIGEST_BYTES).putLong(accessMillis).put(digest(digest)).array();
    }

    static long lruMillis(byte[] key) {
        return ByteBuffer.wrap(key).getLong();
    }

    static Digest lruDigest(byte[] key) {
        return Digest.fromBytes(java.util.Arrays.copyOfRange(key, Long.BYTES, Long.BYTES + DIGEST_BYTES));
    }

    static byte[] action(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }
}
