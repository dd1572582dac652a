package dev.stagefarm.cacheserver.store;

import java.nio.ByteBuffer;

/** Reads a range of a stored blob chunk by chunk, so no blob ever has to fit in memory. */
public interface BlobReader extends AutoCloseable {

    /** The size of the whole blob. */
    long blobSize();

    /**
     * The next piece of the range (at most one chunk), or null at its end. The piece holding the
     * range's last byte comes only after the whole blob has been verified.
     *
     * @throws BlobCorruptException when the blob does not match its digest (it has been removed)
     */
    ByteBuffer next() throws StoreException;

    /**
     * From now on, {@link #next()} may hand out views of one buffer the reader keeps refilling:
     * a piece is valid only until the following {@code next()} or {@code close()}. For callers
     * that are done with each piece before asking for the next; it saves allocating (and zeroing)
     * an array per chunk. Readers without such a buffer return themselves unchanged.
     */
    default BlobReader reusingBuffer() {
        return this;
    }

    /**
     * As {@link #reusingBuffer()}, with a direct buffer: for a caller that writes each piece to a
     * socket channel, which would otherwise copy a heap buffer into a direct one first.
     */
    default BlobReader reusingDirectBuffer() {
        return reusingBuffer();
    }

    @Override
    void close();
}
