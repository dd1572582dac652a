package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * One upload. Each full chunk goes to {@code blob_chunks} together with the session's new
 * length in {@code uploads}, in one batch; nothing refers to those chunks from
 * {@code blob_meta} until {@link #commit()} has verified the digest, so a killed server leaves
 * a resumable upload, never a visible partial blob.
 */
final class RocksBlobWriter implements BlobWriter {

    private final Uploads uploads;
    private final BlobId id;
    private final Digest digest;
    private final MessageDigest sha256;
    private final byte[] buffer;
    private UploadState state;
    private int buffered;
    private boolean done;

    private RocksBlobWriter(Uploads uploads, BlobId id, UploadState state, MessageDigest sha256) {
        this.uploads = uploads;
        this.id = id;
        this.digest = id.digest();
        this.state = state;
        this.sha256 = sha256;
        // Room for the chunk's checksum after its bytes, so a full chunk is sealed without a copy.
        this.buffer = new byte[state.chunkSize() + ChunkSeal.TRAILER];
    }

    /**
     * Continues {@code previous} when it is an upload of the same size whose chunks are all
     * intact (they are hashed again, since a hash state cannot be stored); otherwise starts over.
     * Called under the digest's lock.
     */
    static RocksBlobWriter resume(Uploads uploads, BlobId id, long size, UploadState previous) throws StoreException {
        MessageDigest sha256 = Digest.newSha256();
        if (previous != null && previous.size() == size && previous.chunkSize() == RocksStore.CHUNK_SIZE) {
            long intact = 0;
            while (intact < previous.chunksWritten()) {
                byte[] chunk = uploads.reads().readUploadChunk(id, intact, previous.chunkSize());
                if (chunk == null) {
                    break;
                }
                sha256.update(chunk);
                intact++;
            }
            if (intact == previous.chunksWritten()) {
                return new RocksBlobWriter(uploads, id, previous, sha256);
            }
            sha256.reset();
        }
        UploadState fresh =
                new UploadState(size, RocksStore.CHUNK_SIZE, 0, uploads.clock().millis());
        try (RocksBatch batch = uploads.database().batch("starting the upload of ", id)) {
            batch.deleteRange(Family.CHUNKS, Keys.chunk(id, 0), Keys.chunksEnd(id));
            batch.put(Family.UPLOADS, Keys.blob(id), fresh.encode());
            batch.write();
        }
        return new RocksBlobWriter(uploads, id, fresh, sha256);
    }

    BlobId id() {
        return id;
    }

    @Override
    public long committedSize() {
        synchronized (uploads.lockFor(id)) {
            return state.committedBytes();
        }
    }

    @Override
    public long position() {
        synchronized (uploads.lockFor(id)) {
            return state.committedBytes() + buffered;
        }
    }

    @Override
    public void write(long offset, ByteBuffer data) throws StoreException {
        synchronized (uploads.lockFor(id)) {
            checkActive();
            long position = state.committedBytes() + buffered;
            if (offset > position) {
                throw InvalidWriteException.gap(digest, offset, state.committedBytes());
            }
            long overlap = position - offset;
            if (overlap >= data.remaining()) {
                return;
            }
            data.position(data.position() + (int) overlap);
            if (position + data.remaining() > state.size()) {
                throw InvalidWriteException.tooLong(digest, state.size());
            }
            while (data.hasRemaining()) {
                int n = Math.min(data.remaining(), state.chunkSize() - buffered);
                data.get(buffer, buffered, n);
                buffered += n;
                if (buffered == state.chunkSize()) {
                    persistChunk();
                }
            }
        }
    }

    private void persistChunk() throws StoreException {
        UploadState next = state.withChunks(state.chunksWritten() + 1);
        try (RocksBatch batch = uploads.database().batch("storing a chunk of ", digest)) {
            batch.put(
                    Family.CHUNKS,
                    Keys.chunk(id, state.chunksWritten()),
                    ChunkSeal.sealInPlace(buffer, state.chunkSize()));
            batch.put(Family.UPLOADS, Keys.blob(id), next.encode());
            batch.write();
        }
        sha256.update(buffer, 0, state.chunkSize());
        state = next;
        buffered = 0;
    }

    @Override
    public long commit() throws StoreException {
        synchronized (uploads.lockFor(id)) {
            checkActive();
            long received = state.committedBytes() + buffered;
            if (received != state.size()) {
                throw InvalidWriteException.shortFinish(digest, received, state.size());
            }
            sha256.update(buffer, 0, buffered);
            Digest actual = Digest.fromBytes(sha256.digest());
            done = true;
            uploads.release(this);
            if (!actual.equals(digest)) {
                try (RocksBatch batch = uploads.database().batch("discarding the upload of ", digest)) {
                    batch.delete(Family.UPLOADS, Keys.blob(id));
                    batch.deleteRange(Family.CHUNKS, Keys.chunk(id, 0), Keys.chunksEnd(id));
                    batch.write();
                }
                throw new DigestMismatchException(digest, actual, state.size());
            }
            try (RocksBatch batch = uploads.database().batch("committing ", digest)) {
                batch.delete(Family.UPLOADS, Keys.blob(id));
                if (buffered > 0) {
                    batch.put(
                            Family.CHUNKS, Keys.chunk(id, state.chunksWritten()), ChunkSeal.seal(buffer, 0, buffered));
                }
                uploads.commitNew(batch, id, state.size(), state.chunkSize());
                return state.size();
            }
        }
    }

    private void checkActive() throws StoreException {
        if (done) {
            throw new IllegalStateException("upload of " + digest + " is already finished");
        }
        if (!uploads.isActive(this)) {
            done = true;
            throw new UploadSupersededException(digest);
        }
    }

    @Override
    public void close() {
        synchronized (uploads.lockFor(id)) {
            done = true;
            uploads.release(this);
        }
    }
}
