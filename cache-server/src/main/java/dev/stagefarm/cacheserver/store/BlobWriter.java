package dev.stagefarm.cacheserver.store;

import java.nio.ByteBuffer;

/**
 * One upload session. Bytes are stored in whole chunks as they arrive, so a broken stream
 * loses at most the last partial chunk and a new session resumes from {@link #committedSize()}.
 */
public interface BlobWriter extends AutoCloseable {

    /** Bytes that are durable and survive a broken stream or a restart. */
    long committedSize();

    /** Bytes accepted so far, durable or buffered: the offset the next write should start at. */
    long position();

    /**
     * Appends {@code data}, which starts at {@code offset} in the blob. Bytes before
     * {@link #position()} are already held and are skipped.
     *
     * @throws InvalidWriteException on a gap before {@code offset} or data past the declared size
     */
    void write(long offset, ByteBuffer data) throws StoreException;

    /**
     * Verifies the blob against its digest and makes it visible in one atomic step.
     *
     * @return the blob's size
     * @throws DigestMismatchException when it does not match; the upload is then discarded
     */
    long commit() throws StoreException;

    /** Ends this stream without committing; what is durable stays for a resume. */
    @Override
    void close();
}
