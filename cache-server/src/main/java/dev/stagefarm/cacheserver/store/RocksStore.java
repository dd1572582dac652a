package dev.stagefarm.cacheserver.store;

import java.nio.file.Path;
import java.time.Clock;

/**
 * The cache's storage on RocksDB, opened once per server: it puts the parts together and hands
 * out each team's view ({@link #in}, a {@link NamespaceStore}, the only {@link BlobStore}).
 *
 * <ul>
 *   <li>{@link RocksDatabase} opens and tunes RocksDB, owns every native handle, and is the one
 *       place a {@code RocksDBException} is caught and translated;
 *   <li>{@link StoreFormat} and {@link Recovery} run once when it opens: the layout's version,
 *       abandoned uploads, counting into {@link StoreCounts};
 *   <li>{@link BlobRows} (meta and LRU rows, deletes), {@link ChunkReads} (checked chunk reads),
 *       {@link Uploads} (writes and commits), {@link ActionRows}, {@link StoreStats};
 *   <li>{@link Eviction}: least recently used blobs out under --max-size and on prune.
 * </ul>
 *
 * <p>Column families: {@code blob_chunks} (digest + chunk index → ≤ 1 MiB of data),
 * {@code blob_meta} (digest → size, chunk size, times; its presence makes a blob visible),
 * {@code action_cache}, {@code cache_mounts} ({@link MountHeads}), {@code uploads} (unfinished
 * uploads) and {@code blob_lru} (last-access time + digest → size: blobs in least-recently-used
 * order, for eviction and prune).
 */
public final class RocksStore implements AutoCloseable {

    static final int CHUNK_SIZE = 1 << 20;

    private final RocksDatabase db;
    private final StoreCounts counts;
    private final StoreOptions options;
    final BlobRows rows;
    final ChunkReads reads;
    final Uploads uploads;
    final ActionRows actions;
    final StoreStats stats;
    final Eviction eviction;

    private RocksStore(RocksDatabase db, StoreCounts counts, StoreOptions options, Clock clock) {
        this.db = db;
        this.counts = counts;
        this.options = options;
        AccessTimes accessTimes = new AccessTimes();
        this.rows = new BlobRows(db, counts, accessTimes, clock);
        this.reads = new ChunkReads(db, rows, accessTimes, clock);
        this.eviction = new Eviction(db, rows, counts, accessTimes, options, clock);
        this.uploads = new Uploads(db, rows, reads, eviction, options, clock);
        this.actions = new ActionRows(db, counts);
        this.stats = new StoreStats(db, counts, options);
    }

    /** Opens (creating if needed) the store in {@code dir}, with no size limit. */
    public static RocksStore open(Path dir, Clock clock) throws StoreException {
        return open(dir, StoreOptions.DEFAULTS, clock);
    }

    /** Opens (creating if needed) the store in {@code dir}. */
    public static RocksStore open(Path dir, StoreOptions options, Clock clock) throws StoreException {
        RocksDatabase db = RocksDatabase.open(dir, options);
        try {
            StoreFormat.migrate(db);
            StoreCounts counts = new StoreCounts();
            Recovery.run(db, counts, options, clock);
            RocksStore store = new RocksStore(db, counts, options, clock);
            store.eviction.start();
            return store;
        } catch (StoreException | RuntimeException | Error e) {
            db.close();
            throw e;
        }
    }

    /** The store as one team sees it: its blobs, action results, stats and prune, nothing else. */
    public NamespaceStore in(Namespace namespace) {
        return new NamespaceStore(this, namespace);
    }

    /** The database, for {@link MountHeads}. */
    RocksDatabase database() {
        return db;
    }

    /**
     * Evicts least recently used blobs while stored bytes exceed --max-size, down to
     * {@link StoreOptions#evictionTarget()}. Runs on its own after commits; for tests.
     */
    PruneResult evictIfOverBudget() throws StoreException {
        return eviction.evictIfOverBudget();
    }

    /** Evicts in each team over its quota; runs on its own after commits; for tests. */
    PruneResult evictTeamsOverQuota() throws StoreException {
        return eviction.evictTeamsOverQuota();
    }

    /** Writes the access times noted since the last time; for tests. */
    void flushAccessTimes() throws StoreException {
        eviction.flushAccessTimes();
    }

    @Override
    public void close() {
        if (db.isClosed()) {
            return;
        }
        eviction.stop();
        uploads.releaseAll();
        db.close();
    }

    /** Every team that holds blobs or action results (or did since the server started), by name. */
    public java.util.List<NamespaceUsage> teams() {
        return counts.namespaces().stream()
                .sorted(java.util.Comparator.comparing(Namespace::team))
                .map(n -> {
                    NamespaceCounts c = counts.in(n);
                    return new NamespaceUsage(
                            n.team(), c.blobs.get(), c.bytes.get(), c.actions.get(), options.quota(n));
                })
                .filter(u -> u.blobCount() > 0 || u.actionEntries() > 0)
                .toList();
    }

    // ---- for metrics ----

    public long storedBytes() {
        return counts.bytes().get();
    }

    public long blobCount() {
        return counts.blobs().get();
    }

    public long maxBytes() {
        return options.maxBytes();
    }

    public long evictedBlobs() {
        return counts.evictedBlobs.get();
    }

    public long evictedBytes() {
        return counts.evictedBytes.get();
    }
}
