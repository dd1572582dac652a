package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A blob's rows: its {@code blob_meta} row (whose presence makes it visible) and its
 * {@code blob_lru} row, always changed together in one batch, and the deletion of all its rows.
 * Lookups note an access ({@link AccessTimes}) without writing; {@link #recordAccess} writes it later.
 */
final class BlobRows {

    /** A blob with at most this many chunks is deleted with point deletes, not a range tombstone. */
    private static final int POINT_DELETE_CHUNKS = 16;

    private final RocksDatabase db;
    private final StoreCounts counts;
    private final AccessTimes accessTimes;
    private final Clock clock;
    /** Stripes serialize each digest's writers, deleters and access-time writes. */
    private final Object[] stripes = new Object[64];

    BlobRows(RocksDatabase db, StoreCounts counts, AccessTimes accessTimes, Clock clock) {
        this.db = db;
        this.counts = counts;
        this.accessTimes = accessTimes;
        this.clock = clock;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
    }

    Object lockFor(BlobId id) {
        return stripes[Math.floorMod(id.hashCode(), stripes.length)];
    }

    Optional<BlobMeta> loadMeta(BlobId digest) throws StoreException {
        byte[] value = db.get(Family.META, Keys.blob(digest), "reading the metadata of ", digest);
        return value == null ? Optional.empty() : Optional.of(BlobMeta.decode(value));
    }

    boolean contains(BlobId id) throws StoreException {
        return loadMeta(id).isPresent();
    }

    long size(BlobId id) throws StoreException {
        return loadMeta(id)
                .orElseThrow(() -> new BlobNotFoundException(id.digest()))
                .size();
    }

    Set<Digest> missing(Namespace namespace, Collection<Digest> digests) throws StoreException {
        List<Digest> asked = List.copyOf(new LinkedHashSet<>(digests));
        if (asked.isEmpty()) {
            // RocksDB's MultiGet asserts on an empty key list (a crash with Java assertions on).
            return Set.of();
        }
        byte[] prefix = namespace.prefix();
        List<byte[]> keys =
                asked.stream().map(d -> Keys.blob(prefix, Keys.digest(d))).toList();
        List<byte[]> values = db.multiGet(Family.META, keys, "looking up blobs: ", keys.size());
        Set<Digest> missing = new LinkedHashSet<>();
        long now = clock.millis();
        for (int i = 0; i < asked.size(); i++) {
            byte[] value = values.get(i);
            if (value == null) {
                missing.add(asked.get(i));
            } else {
                // A hit tells the client not to upload: the blob is about to be used.
                accessTimes.accessed(
                        new BlobId(namespace, asked.get(i)),
                        BlobMeta.decode(value).lastAccessMillis(),
                        now);
            }
        }
        return missing;
    }

    boolean[] present(Namespace namespace, List<byte[]> sha256s) throws StoreException {
        boolean[] present = new boolean[sha256s.size()];
        // Only digests the in-memory filter may hold go to RocksDB; the rest are certainly absent.
        List<Integer> maybe = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        byte[] prefix = namespace.prefix();
        long salt = namespace.salt();
        for (int i = 0; i < present.length; i++) {
            if (counts.mayContain(salt, sha256s.get(i))) {
                maybe.add(i);
                keys.add(Keys.blob(prefix, sha256s.get(i)));
            }
        }
        if (keys.isEmpty()) {
            return present;
        }
        List<byte[]> values = db.multiGet(Family.META, keys, "looking up blobs: ", keys.size());
        long now = clock.millis();
        for (int k = 0; k < keys.size(); k++) {
            byte[] value = values.get(k);
            if (value != null) {
                present[maybe.get(k)] = true;
                long accessed = BlobMeta.decode(value).lastAccessMillis();
                if (now - accessed >= AccessTimes.GRANULARITY_MILLIS) {
                    accessTimes.accessed(Keys.blobOf(keys.get(k)), accessed, now);
                }
            }
        }
        return present;
    }

    /**
     * Adds a new blob's meta and LRU rows to {@code batch}, writes it and counts the blob; when
     * another upload committed the same digest meanwhile, writes the batch and counts nothing.
     * Returns the server's stored bytes after it (0 when nothing was added). Called under the digest's lock.
     */
    long commitNew(RocksBatch batch, BlobId id, long size, int chunkSize) throws StoreException {
        if (loadMeta(id).isPresent()) {
            batch.write();
            return 0;
        }
        long now = clock.millis();
        batch.put(Family.META, Keys.blob(id), new BlobMeta(size, chunkSize, now, now).encode());
        batch.put(Family.LRU, Keys.lru(now, id), sizeValue(size));
        batch.write();
        return counts.added(id, size);
    }

    /**
     * Deletes a blob: its meta, LRU and chunk rows in one batch. With {@code ifAccessedAt} ≥ 0,
     * only when its last access is still that time (an eviction must not remove a blob that
     * was read since it was chosen). Returns the bytes freed, or -1 when nothing was deleted.
     */
    long delete(BlobId digest, long ifAccessedAt) throws StoreException {
        synchronized (lockFor(digest)) {
            Optional<BlobMeta> found = loadMeta(digest);
            if (found.isEmpty() || (ifAccessedAt >= 0 && found.get().lastAccessMillis() != ifAccessedAt)) {
                return -1;
            }
            BlobMeta m = found.get();
            try (RocksBatch batch = db.batch("deleting ", digest)) {
                batch.delete(Family.META, Keys.blob(digest));
                batch.delete(Family.LRU, Keys.lru(m.lastAccessMillis(), digest));
                // Range tombstones slow later reads down; small blobs get point deletes.
                if (m.chunkCount() <= POINT_DELETE_CHUNKS) {
                    for (long i = 0; i < Math.max(1, m.chunkCount()); i++) {
                        batch.delete(Family.CHUNKS, Keys.chunk(digest, i));
                    }
                } else {
                    batch.deleteRange(Family.CHUNKS, Keys.chunk(digest, 0), Keys.chunksEnd(digest));
                }
                batch.write();
            }
            counts.removed(digest, m.size());
            return m.size();
        }
    }

    /** Moves a blob's last access to {@code accessedMillis}, unless it is gone or was recorded later. */
    void recordAccess(BlobId digest, long accessedMillis) throws StoreException {
        synchronized (lockFor(digest)) {
            Optional<BlobMeta> current = loadMeta(digest);
            if (current.isEmpty() || current.get().lastAccessMillis() >= accessedMillis) {
                return;
            }
            BlobMeta before = current.get();
            BlobMeta after = before.accessedAt(accessedMillis);
            try (RocksBatch batch = db.batch("recording access to ", digest)) {
                batch.put(Family.META, Keys.blob(digest), after.encode());
                batch.delete(Family.LRU, Keys.lru(before.lastAccessMillis(), digest));
                batch.put(Family.LRU, Keys.lru(after.lastAccessMillis(), digest), sizeValue(after.size()));
                batch.write();
            }
        }
    }

    /** The value of a {@code blob_lru} row. */
    static byte[] sizeValue(long size) {
        return ByteBuffer.allocate(Long.BYTES).putLong(size).array();
    }
}
