package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/** Key layouts of the RocksDB column families. */
public final class Keys {

    public static final int DIGEST_BYTES = 32;

    private Keys() {}

    /** {@code blob_meta} and {@code uploads}: the raw 32 digest bytes. */
    static byte[] digest(Digest digest) {
        return HexFormat.of().parseHex(digest.hex());
    }

    /**
     * The 32 bytes of a {@code sha256:<64 lowercase hex>} text, or null when it is not one.
     * FindMissing parses many thousands per call, so this is a plain loop, not a regex.
     */
    public static byte[] sha256OrNull(String text) {
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

    /** {@code blob_meta} and {@code uploads}: the namespace prefix, then the 32 digest bytes. */
    static byte[] blob(BlobId id) {
        return blob(id.namespace().prefix(), digest(id.digest()));
    }

    /** The same key from a prefix computed once and raw digest bytes (FindMissing's fast path). */
    static byte[] blob(byte[] prefix, byte[] sha256) {
        return ByteBuffer.allocate(prefix.length + DIGEST_BYTES)
                .put(prefix)
                .put(sha256)
                .array();
    }

    /** The blob a {@code blob_meta} or {@code uploads} key names. */
    static BlobId blobOf(byte[] key) {
        return new BlobId(Namespace.ofKey(key, 0), lastDigest(key));
    }

    /**
     * {@code blob_chunks}: namespace prefix, digest bytes, then the chunk index as 8 bytes
     * big-endian, so a blob's chunks sort together and in order (one range delete removes them all).
     */
    public static byte[] chunk(BlobId id, long index) {
        byte[] prefix = id.namespace().prefix();
        return ByteBuffer.allocate(prefix.length + DIGEST_BYTES + Long.BYTES)
                .put(prefix)
                .put(digest(id.digest()))
                .putLong(index)
                .array();
    }

    /** Exclusive upper bound of every chunk key of {@code id}. */
    static byte[] chunksEnd(BlobId id) {
        return chunk(id, Long.MAX_VALUE);
    }

    /**
     * {@code blob_lru}: last-access time (ms, 8 bytes big-endian), namespace prefix, digest. Time
     * comes first, so iterating from the first key visits the blobs of every namespace least
     * recently used first: --max-size is one budget for the whole server. Kept in step with the
     * {@code blob_meta} row's last-access time, in the same write batches.
     */
    static byte[] lru(long accessMillis, BlobId id) {
        byte[] prefix = id.namespace().prefix();
        return ByteBuffer.allocate(Long.BYTES + prefix.length + DIGEST_BYTES)
                .putLong(accessMillis)
                .put(prefix)
                .put(digest(id.digest()))
                .array();
    }

    static long lruMillis(byte[] key) {
        return ByteBuffer.wrap(key).getLong();
    }

    static BlobId lruBlob(byte[] key) {
        return new BlobId(Namespace.ofKey(key, Long.BYTES), lastDigest(key));
    }

    /** {@code action_cache}: namespace prefix, then the cache key in UTF-8. */
    static byte[] action(Namespace namespace, String key) {
        byte[] prefix = namespace.prefix();
        byte[] text = key.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(prefix.length + text.length)
                .put(prefix)
                .put(text)
                .array();
    }

    /** Whether an {@code action_cache} key belongs to {@code namespace}. */
    static boolean inNamespace(byte[] key, int offset, byte[] prefix) {
        return key.length >= offset + prefix.length
                && Arrays.equals(key, offset, offset + prefix.length, prefix, 0, prefix.length);
    }

    private static Digest lastDigest(byte[] key) {
        return Digest.fromBytes(Arrays.copyOfRange(key, key.length - DIGEST_BYTES, key.length));
    }
}
