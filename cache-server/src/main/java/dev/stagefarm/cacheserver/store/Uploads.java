package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.BlobStore.WriteStatus;
import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import dev.stagefarm.common.Digest;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Writes of blobs: upload sessions ({@link RocksBlobWriter}, one per digest at a time, resumable
 * from their {@code uploads} row), small blobs in one batch, and the commit that makes a blob visible.
 */
final class Uploads {

    private final RocksDatabase db;
    private final BlobRows rows;
    private final ChunkReads reads;
    private final Eviction eviction;
    private final StoreOptions options;
    private final Clock clock;
    /** One upload session per digest at a time. */
    private final ConcurrentMap<BlobId, RocksBlobWriter> activeWriters = new ConcurrentHashMap<>();

    Uploads(RocksDatabase db, BlobRows rows, ChunkReads reads, Eviction eviction, StoreOptions options, Clock clock) {
        this.db = db;
        this.rows = rows;
        this.reads = reads;
        this.eviction = eviction;
        this.options = options;
        this.clock = clock;
    }

    Optional<BlobWriter> openWrite(BlobId id, long size) throws StoreException {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative");
        }
        checkFits(id.digest(), size);
        synchronized (rows.lockFor(id)) {
            if (rows.loadMeta(id).isPresent()) {
                return Optional.empty();
            }
            RocksBlobWriter writer =
                    RocksBlobWriter.resume(this, id, size, loadUpload(id).orElse(null));
            // Takes over from any earlier writer of this digest: a client resuming after a
            // broken stream must not wait for the server to notice the old one is dead.
            activeWriters.put(id, writer);
            return Optional.of(writer);
        }
    }

    WriteStatus queryWrite(BlobId id) throws StoreException {
        Optional<BlobMeta> m = rows.loadMeta(id);
        if (m.isPresent()) {
            return new WriteStatus(m.get().size(), true);
        }
        return new WriteStatus(loadUpload(id).map(UploadState::committedBytes).orElse(0L), false);
    }

    boolean putSmall(BlobId id, byte[] data) throws StoreException {
        Digest digest = id.digest();
        checkFits(digest, data.length);
        Digest actual = Digest.of(data);
        if (!actual.equals(digest)) {
            throw new DigestMismatchException(digest, actual, data.length);
        }
        synchronized (rows.lockFor(id)) {
            if (rows.loadMeta(id).isPresent()) {
                return false;
            }
            try (RocksBatch batch = db.batch("storing ", digest)) {
                for (int index = 0; (long) index * RocksStore.CHUNK_SIZE < data.length || index == 0; index++) {
                    int from = index * RocksStore.CHUNK_SIZE;
                    int to = Math.min(data.length, from + RocksStore.CHUNK_SIZE);
                    batch.put(Family.CHUNKS, Keys.chunk(id, index), ChunkSeal.seal(data, from, to));
                    if (to == data.length) {
                        break;
                    }
                }
                commitNew(batch, id, data.length, RocksStore.CHUNK_SIZE);
                return true;
            }
        }
    }

    /**
     * Adds a new blob's rows to {@code batch} and writes it (see {@link BlobRows#commitNew}); asks
     * for an eviction when the store is now over --max-size. Called under the digest's lock.
     */
    void commitNew(RocksBatch batch, BlobId id, long size, int chunkSize) throws StoreException {
        long stored = rows.commitNew(batch, id, size, chunkSize);
        if ((stored > options.maxBytes() && options.maxBytes() > 0) || eviction.overQuota(id.namespace())) {
            eviction.request();
        }
    }

    private Optional<UploadState> loadUpload(BlobId digest) throws StoreException {
        byte[] value = db.get(Family.UPLOADS, Keys.blob(digest), "reading the upload state of ", digest);
        return value == null ? Optional.empty() : Optional.of(UploadState.decode(value));
    }

    private void checkFits(Digest digest, long size) throws BlobTooLargeException {
        if (options.maxBytes() > 0 && size > options.maxBytes()) {
            throw new BlobTooLargeException(digest, size, options.maxBytes());
        }
    }

    // ---- for the writer ----

    RocksDatabase database() {
        return db;
    }

    ChunkReads reads() {
        return reads;
    }

    Clock clock() {
        return clock;
    }

    Object lockFor(BlobId id) {
        return rows.lockFor(id);
    }

    boolean isActive(RocksBlobWriter writer) {
        return activeWriters.get(writer.id()) == writer;
    }

    void release(RocksBlobWriter writer) {
        activeWriters.remove(writer.id(), writer);
    }

    /** On close: every session still open is told it was superseded. */
    void releaseAll() {
        activeWriters.clear();
    }
}
