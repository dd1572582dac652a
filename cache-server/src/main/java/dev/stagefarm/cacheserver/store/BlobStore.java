package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Content-addressed blob storage. A blob becomes visible only once its bytes are verified
 * against its digest, and is verified again every time it is read.
 */
public interface BlobStore {

    boolean contains(Digest digest) throws StoreException;

    /** The subset of {@code digests} the store lacks, in the order given. */
    default Set<Digest> missing(Collection<Digest> digests) throws StoreException {
        Set<Digest> missing = new LinkedHashSet<>();
        for (Digest d : digests) {
            if (!contains(d)) {
                missing.add(d);
            }
        }
        return missing;
    }

    /**
     * Which of these blobs, given as their 32 sha256 bytes, are stored: the fast path of
     * FindMissing, which skips building a {@link Digest} per entry.
     */
    default boolean[] present(List<byte[]> sha256s) throws StoreException {
        boolean[] present = new boolean[sha256s.size()];
        for (int i = 0; i < present.length; i++) {
            present[i] = contains(Digest.fromBytes(sha256s.get(i)));
        }
        return present;
    }

    /** @throws BlobNotFoundException when the blob is not stored */
    long size(Digest digest) throws StoreException;

    /**
     * Opens bytes {@code [offset, offset + limit)} of a blob ({@code limit} 0 = to the end). The
     * reader verifies the whole blob's digest and never hands out the range's last bytes
     * before it has: a corrupt blob fails the read with {@link BlobCorruptException}.
     *
     * @throws BlobNotFoundException when the blob is not stored
     * @throws InvalidRangeException when {@code offset} lies past the blob's end
     */
    BlobReader openRead(Digest digest, long offset, long limit) throws StoreException;

    /**
     * Starts or resumes an upload. Empty when the blob is already stored, so there is nothing to
     * write. A second {@code openWrite} of the same digest takes the session over from the first.
     */
    Optional<BlobWriter> openWrite(Digest digest, long size) throws StoreException;

    /** How much of an upload survived (or the size of a stored blob, complete). */
    WriteStatus queryWrite(Digest digest) throws StoreException;

    /**
     * Stores a blob held whole in memory (a batch upload) in one atomic write, after checking
     * its digest. False when the store held it already.
     *
     * @throws DigestMismatchException when {@code data} does not hash to {@code digest}
     * @throws BlobTooLargeException when it exceeds the store's whole size budget
     */
    boolean putSmall(Digest digest, byte[] data) throws StoreException;

    /** Removes a stored blob; false when there was none. */
    boolean delete(Digest digest) throws StoreException;

    /** {@code committedSize} bytes are durable; {@code complete} when the blob is stored. */
    record WriteStatus(long committedSize, boolean complete) {}
}
