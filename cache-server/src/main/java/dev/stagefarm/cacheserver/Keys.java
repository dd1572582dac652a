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

    static byte[] action(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }
}
