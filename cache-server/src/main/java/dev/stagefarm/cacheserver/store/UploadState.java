package dev.stagefarm.cacheserver.store;

import java.nio.ByteBuffer;

/** An unfinished upload's {@code uploads} value: how many whole chunks of it are stored. */
public record UploadState(long size, int chunkSize, long chunksWritten, long startedMillis) {

    private static final byte VERSION = 1;
    private static final int LENGTH = 1 + Long.BYTES + Integer.BYTES + Long.BYTES + Long.BYTES;

    long committedBytes() {
        return chunksWritten * chunkSize;
    }

    UploadState withChunks(long chunks) {
        return new UploadState(size, chunkSize, chunks, startedMillis);
    }

    byte[] encode() {
        return ByteBuffer.allocate(LENGTH)
                .put(VERSION)
                .putLong(size)
                .putInt(chunkSize)
                .putLong(chunksWritten)
                .putLong(startedMillis)
                .array();
    }

    static UploadState decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (bytes.length != LENGTH || b.get() != VERSION) {
            throw new IllegalStateException("unreadable uploads value of " + bytes.length + " bytes");
        }
        return new UploadState(b.getLong(), b.getInt(), b.getLong(), b.getLong());
    }
}
