package dev.stagefarm.cacheserver;

import java.nio.ByteBuffer;

/** A stored blob's {@code blob_meta} value. Its presence is what makes the blob visible. */
record BlobMeta(long size, int chunkSize, long createdMillis, long lastAccessMillis) {

    private static final byte VERSION = 1;
    private static final int LENGTH = 1 + Long.BYTES + Integer.BYTES + Long.BYTES + Long.BYTES;

    long chunkCount() {
        return (size + chunkSize - 1) / chunkSize;
    }

    /** Bytes in chunk {@code index}: full chunks except possibly the last. */
    int chunkLength(long index) {
        return (int) Math.min(chunkSize, size - index * chunkSize);
    }

    BlobMeta accessedAt(long millis) {
        return new BlobMeta(size, chunkSize, createdMillis, millis);
    }

    byte[] encode() {
        return ByteBuffer.allocate(LENGTH)
                .put(VERSION).putLong(size).putInt(chunkSize).putLong(createdMillis).putLong(lastAccessMillis)
                .array();
    }

    static BlobMeta decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (bytes.length != LENGTH || b.get() != VERSION) {
            throw new IllegalStateException("unreadable blob_meta value of " + bytes.length + " bytes");
        }
        return new BlobMeta(b.getLong(), b.getInt(), b.getLong(), b.getLong());
    }
}
