package dev.stagefarm.cacheserver;

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

    @Override
    void close();
}
