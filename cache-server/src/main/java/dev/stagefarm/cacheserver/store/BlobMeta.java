package dev.stagefarm.cacheserver.store;

import java.nio.ByteBuffer;

/**
 * A stored blob's {@code blob_meta} value. Its presence is what makes the blob visible.
 *
 * @param version {@link #SEALED} for blobs whose chunks carry a {@link ChunkSeal} trailer;
 *                {@link #UNSEALED} for blobs stored before chunks had one (their reads hash the
 *                whole blob instead)
 */
public record BlobMeta(byte version, long size, int chunkSize, long createdMillis, long lastAccessMillis) {

    public static final byte UNSEALED = 1;
    static final byte SEALED = 2;
    private static final int LENGTH = 1 + Long.BYTES + Integer.BYTES + Long.BYTES + Long.BYTES;

    /** A blob stored now: sealed chunks. */
    BlobMeta(long size, int chunkSize, long createdMillis, long lastAccessMillis) {
        this(SEALED, size, chunkSize, createdMillis, lastAccessMillis);
    }

    boolean sealed() {
        return version == SEALED;
    }

    public long chunkCount() {
        return (size + chunkSize - 1) / chunkSize;
    }

    /** Bytes in chunk {@code index}: full chunks except possibly the last. */
    int chunkLength(long index) {
        return (int) Math.min(chunkSize, size - index * chunkSize);
    }

    BlobMeta accessedAt(long millis) {
        return new BlobMeta(version, size, chunkSize, createdMillis, millis);
    }

    public byte[] encode() {
        return ByteBuffer.allocate(LENGTH)
                .put(version)
                .putLong(size)
                .putInt(chunkSize)
                .putLong(createdMillis)
                .putLong(lastAccessMillis)
                .array();
    }

    public static BlobMeta decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        byte version = bytes.length == LENGTH ? b.get() : 0;
        if (version != UNSEALED && version != SEALED) {
            throw new IllegalStateException("unreadable blob_meta value of " + bytes.length + " bytes");
        }
        return new BlobMeta(version, b.getLong(), b.getInt(), b.getLong(), b.getLong());
    }
}
