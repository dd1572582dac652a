package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache's storage on RocksDB. This class owns every native handle (options, caches,
 * column families, the database) and closes them all; every {@link RocksDBException} is
 * translated here, once, into a {@link StorageFailureException}.
 *
 * <p>Column families: {@code blob_chunks} (digest + chunk index → ≤ 1 MiB of data),
 * {@code blob_meta} (digest → size, chunk size, times; its presence makes a blob visible),
 * {@code action_cache}, {@code cache_mounts} (reserved), {@code uploads} (unfinished uploads) and
 * {@code blob_lru} (last-access time + digest → size: blobs in least-recently-used order, for
 * eviction and prune).
 *
 * <p>Blob count and stored bytes are counted when the store opens and kept in step with every
 * commit and delete, so {@link #usage()} is free and the --max-size check costs nothing per write.
 */
public final class RocksStore implements BlobStore, ActionCacheStore, StoreAdmin, AutoCloseable {

    public static final int CHUNK_SIZE = 1 << 20;
    public static final String CHUNKS = "blob_chunks";
    public static final String META = "blob_meta";
    public static final String ACTIONS = "action_cache";
    public static final String MOUNTS = "cache_mounts";
    public static final String UPLOADS = "uploads";
    public static final String LRU = "blob_lru";

    /** Block cache shared by all column families; mostly index, filter and meta blocks. */
    private static final long BLOCK_CACHE_BYTES = 256L << 20;
    /** A blob with at most this many chunks is deleted with point deletes, not a range tombstone. */
    private static final int POINT_DELETE_CHUNKS = 16;
    /** Uploads untouched this long are abandoned: their chunks are dropped on open. */
    private static final Duration ABANDONED_UPLOAD_AGE = Duration.ofDays(7);

    private static final Logger log = LoggerFactory.getLogger(RocksStore.class);

    static {
        RocksDB.loadLibrary();
    }

    /** Native handles in the order they were made; closed in reverse. */
    private final Deque<AutoCloseable> handles;

    private final RocksDB db;
    private final ColumnFamilyHandle chunks;
    private final ColumnFamilyHandle meta;
    private final ColumnFamilyHandle actions;
    private final ColumnFamilyHandle mounts;
    private final ColumnFamilyHandle uploads;
    private final ColumnFamilyHandle lru;
    private final WriteOptions writeOptions;
    private final StoreOptions options;
    private final Clock clock;
    private final AccessTimes accessTimes = new AccessTimes();
    /** Answers FindMissing's "absent" without RocksDB. */
    private final DigestFilter stored = new DigestFilter();

    private final AtomicLong blobCount = new AtomicLong();
    private final AtomicLong storedBytes = new AtomicLong();
    /** Per namespace: blobs, bytes and action results, for its stats and prune. */
    private final ConcurrentMap<Namespace, NamespaceCounts> counts = new ConcurrentHashMap<>();

    private final AtomicLong evictedBlobs = new AtomicLong();
    private final AtomicLong evictedBytes = new AtomicLong();
    private final AtomicBoolean evictionQueued = new AtomicBoolean();
    /** Writes access times and evicts in the background, off the request path. */
    private final ScheduledExecutorService maintenance;
    /** One eviction or prune at a time. */
    private final Object pruneLock = new Object();
    /** One upload session per digest at a time; stripes serialize each digest's writers. */
    private final ConcurrentMap<BlobId, RocksBlobWriter> activeWriters = new ConcurrentHashMap<>();

    private final Object[] stripes = new Object[64];
    private volatile boolean closed;

    private RocksStore(
            Deque<AutoCloseable> handles,
            RocksDB db,
            List<ColumnFamilyHandle> cfs,
            WriteOptions writeOptions,
            StoreOptions options,
            Clock clock) {
        this.handles = handles;
        this.db = db;
        this.chunks = cfs.get(1);
        this.meta = cfs.get(2);
        this.actions = cfs.get(3);
        this.mounts = cfs.get(4);
        this.uploads = cfs.get(5);
        this.lru = cfs.get(6);
        this.writeOptions = writeOptions;
        this.options = options;
        this.clock = clock;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
        this.maintenance = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("cache-maintenance").daemon().factory());
    }

    /** Opens (creating if needed) the store in {@code dir}, with no size limit. */
    public static RocksStore open(Path dir, Clock clock) throws StoreException {
        return open(dir, StoreOptions.DEFAULTS, clock);
    }

    /** Opens (creating if needed) the store in {@code dir}. */
    public static RocksStore open(Path dir, StoreOptions storeOptions, Clock clock) throws StoreException {
        Deque<AutoCloseable> handles = new ArrayDeque<>();
        try {
            Files.createDirectories(dir);
            LRUCache blockCache = track(handles, new LRUCache(BLOCK_CACHE_BYTES));
            BloomFilter bloom = track(handles, new BloomFilter(10));

            DBOptions dbOptions = track(
                    handles,
                    new DBOptions()
                            .setCreateIfMissing(true)
                            .setCreateMissingColumnFamilies(true)
                            // The machines have few cores; flushes and compactions share them with gRPC.
                            .setMaxBackgroundJobs(2)
                            // Write back in 1 MiB steps instead of stalling on one huge fsync later.
                            .setBytesPerSync(1L << 20)
                            .setWalBytesPerSync(1L << 20)
                            // Chunks pass through the WAL: cap it so recovery after a crash stays short.
                            .setMaxTotalWalSize(512L << 20));

            List<ColumnFamilyDescriptor> descriptors = List.of(
                    new ColumnFamilyDescriptor(
                            RocksDB.DEFAULT_COLUMN_FAMILY, track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(
                            bytes(CHUNKS), track(handles, chunkValues(blockCache, storeOptions.blobFiles()))),
                    new ColumnFamilyDescriptor(bytes(META), track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(bytes(ACTIONS), track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(bytes(MOUNTS), track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(bytes(UPLOADS), track(handles, smallValues(blockCache, bloom))),
                    // Only ever scanned in order, never looked up: no bloom filter.
                    new ColumnFamilyDescriptor(bytes(LRU), track(handles, smallValues(blockCache, null))));
            List<ColumnFamilyHandle> cfs = new ArrayList<>();
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, cfs);
            handles.push(db);
            // Column family handles must close before the database.
            cfs.forEach(handles::push);
            // No fsync per write: the WAL survives a killed process (SIGKILL), and a machine crash
            // losing the last commits only costs a re-upload in a content-addressed cache.
            WriteOptions writeOptions = track(handles, new WriteOptions());
            RocksStore store = new RocksStore(handles, db, cfs, writeOptions, storeOptions, clock);
            // From here on the store owns the handles (and its maintenance thread): close() frees them.
            try {
                StoreFormat.migrate(db, cfs);
                store.dropAbandonedUploads();
                store.recount();
                store.startMaintenance();
            } catch (StoreException | RuntimeException e) {
                store.close();
                throw e;
            }
            return store;
        } catch (RocksDBException | java.io.IOException e) {
            closeAll(handles);
            throw new StorageFailureException("opening " + dir, e);
        } catch (RuntimeException | Error e) {
            closeAll(handles);
            throw e;
        }
    }

    /**
     * Chunks: 1 MiB values that are written once and read whole. Layers arrive compressed
     * (gzip/zstd), so compressing them again only burns CPU. Blob files keep these large values
     * out of the LSM tree, so compactions move keys and pointers instead of rewriting megabytes.
     */
    private static ColumnFamilyOptions chunkValues(LRUCache blockCache, boolean blobFiles) {
        return new ColumnFamilyOptions()
                .setCompressionType(CompressionType.NO_COMPRESSION)
                .setEnableBlobFiles(blobFiles)
                .setMinBlobSize(4096)
                .setBlobFileSize(256L << 20)
                .setBlobCompressionType(CompressionType.NO_COMPRESSION)
                // Reclaims space of deleted blobs by rewriting only the oldest, mostly dead blob files.
                .setEnableBlobGarbageCollection(true)
                .setWriteBufferSize(64L << 20)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache));
    }

    /**
     * Meta, action results, uploads: small values read by point lookup (FindMissing asks for
     * thousands at once). Bloom filters answer "absent" without touching data blocks; LZ4 is
     * cheap enough for small protobufs.
     */
    private static ColumnFamilyOptions smallValues(LRUCache blockCache, BloomFilter bloom) {
        BlockBasedTableConfig table = new BlockBasedTableConfig()
                .setBlockCache(blockCache)
                .setCacheIndexAndFilterBlocks(true)
                .setPinL0FilterAndIndexBlocksInCache(true);
        if (bloom != null) {
            table.setFilterPolicy(bloom);
        }
        ColumnFamilyOptions cf = new ColumnFamilyOptions()
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setWriteBufferSize(16L << 20)
                .setTableFormatConfig(table);
        if (bloom != null) {
            // FindMissing asks mostly for absent digests: a bloom filter over the memtable answers
            // those without walking the skiplist, as the SST filters do for flushed data.
            cf.setMemtablePrefixBloomSizeRatio(0.1).setMemtableWholeKeyFiltering(true);
        }
        return cf;
    }

    /** The store as one team sees it: its blobs, action results, stats and prune, nothing else. */
    public NamespaceStore in(Namespace namespace) {
        return new NamespaceStore(this, namespace);
    }

    // ---- BlobStore, ActionCacheStore, StoreAdmin of the default namespace ----

    @Override
    public boolean contains(Digest digest) throws StoreException {
        return contains(new BlobId(Namespace.DEFAULT, digest));
    }

    @Override
    public Set<Digest> missing(Collection<Digest> digests) throws StoreException {
        return missing(Namespace.DEFAULT, digests);
    }

    @Override
    public boolean[] present(List<byte[]> sha256s) throws StoreException {
        return present(Namespace.DEFAULT, sha256s);
    }

    @Override
    public long size(Digest digest) throws StoreException {
        return size(new BlobId(Namespace.DEFAULT, digest));
    }

    @Override
    public BlobReader openRead(Digest digest, long offset, long limit) throws StoreException {
        return openRead(new BlobId(Namespace.DEFAULT, digest), offset, limit);
    }

    @Override
    public Optional<BlobWriter> openWrite(Digest digest, long size) throws StoreException {
        return openWrite(new BlobId(Namespace.DEFAULT, digest), size);
    }

    @Override
    public WriteStatus queryWrite(Digest digest) throws StoreException {
        return queryWrite(new BlobId(Namespace.DEFAULT, digest));
    }

    @Override
    public boolean delete(Digest digest) throws StoreException {
        return delete(new BlobId(Namespace.DEFAULT, digest));
    }

    @Override
    public boolean putSmall(Digest digest, byte[] data) throws StoreException {
        return putSmall(new BlobId(Namespace.DEFAULT, digest), data);
    }

    @Override
    public Optional<byte[]> getAction(String key) throws StoreException {
        return getAction(Namespace.DEFAULT, key);
    }

    @Override
    public void putAction(String key, byte[] actionResult) throws StoreException {
        putAction(Namespace.DEFAULT, key, actionResult);
    }

    @Override
    public Usage usage() throws StoreException {
        return usage(Namespace.DEFAULT);
    }

    @Override
    public PruneResult prune(long keepBytes, Duration unusedFor) throws StoreException {
        return prune(Namespace.DEFAULT, keepBytes, unusedFor);
    }

    // ---- the same, in a namespace (NamespaceStore calls these) ----

    boolean contains(BlobId id) throws StoreException {
        return loadMeta(id).isPresent();
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
        List<ColumnFamilyHandle> cfs = java.util.Collections.nCopies(keys.size(), meta);
        try {
            List<byte[]> values = db.multiGetAsList(cfs, keys);
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
        } catch (RocksDBException e) {
            throw new StorageFailureException("looking up " + keys.size() + " blobs", e);
        }
    }

    boolean[] present(Namespace namespace, List<byte[]> sha256s) throws StoreException {
        boolean[] present = new boolean[sha256s.size()];
        // Only digests the in-memory filter may hold go to RocksDB; the rest are certainly absent.
        List<Integer> maybe = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        byte[] prefix = namespace.prefix();
        long salt = namespace.salt();
        for (int i = 0; i < present.length; i++) {
            if (stored.mayContain(salt, sha256s.get(i))) {
                maybe.add(i);
                keys.add(Keys.blob(prefix, sha256s.get(i)));
            }
        }
        if (keys.isEmpty()) {
            return present;
        }
        try {
            List<byte[]> values = db.multiGetAsList(java.util.Collections.nCopies(keys.size(), meta), keys);
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
        } catch (RocksDBException e) {
            throw new StorageFailureException("looking up " + keys.size() + " blobs", e);
        }
    }

    long size(BlobId id) throws StoreException {
        return loadMeta(id)
                .orElseThrow(() -> new BlobNotFoundException(id.digest()))
                .size();
    }

    BlobReader openRead(BlobId id, long offset, long limit) throws StoreException {
        Digest digest = id.digest();
        if (offset < 0 || limit < 0) {
            throw new IllegalArgumentException("offset and limit must not be negative");
        }
        BlobMeta m = loadMeta(id).orElseThrow(() -> new BlobNotFoundException(digest));
        accessTimes.accessed(id, m.lastAccessMillis(), clock.millis());
        if (offset > m.size()) {
            throw new InvalidRangeException(digest, offset, m.size());
        }
        long end = limit == 0 ? m.size() : Math.min(m.size(), offset + limit);
        // A snapshot keeps every chunk readable even if the blob is deleted mid-stream. RocksDB's
        // own checksums are skipped: the reader checks every chunk's CRC32C (or an old blob's
        // sha256) anyway, and a mismatch is handled the same way. Chunks bypass the block cache,
        // which is for the small families' index, filter and data blocks, not for streaming
        // gigabytes through.
        ReadOptions readOptions = new ReadOptions()
                .setSnapshot(db.getSnapshot())
                .setVerifyChecksums(false)
                .setFillCache(false);
        return new RocksBlobReader(this, id, m, offset, end, readOptions);
    }

    Optional<BlobWriter> openWrite(BlobId id, long size) throws StoreException {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative");
        }
        checkFits(id.digest(), size);
        synchronized (lockFor(id)) {
            if (loadMeta(id).isPresent()) {
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
        Optional<BlobMeta> m = loadMeta(id);
        if (m.isPresent()) {
            return new WriteStatus(m.get().size(), true);
        }
        return new WriteStatus(loadUpload(id).map(UploadState::committedBytes).orElse(0L), false);
    }

    boolean delete(BlobId id) throws StoreException {
        return deleteBlob(id, -1) >= 0;
    }

    boolean putSmall(BlobId id, byte[] data) throws StoreException {
        Digest digest = id.digest();
        checkFits(digest, data.length);
        Digest actual = Digest.of(data);
        if (!actual.equals(digest)) {
            throw new DigestMismatchException(digest, actual, data.length);
        }
        synchronized (lockFor(id)) {
            if (loadMeta(id).isPresent()) {
                return false;
            }
            try (WriteBatch batch = new WriteBatch()) {
                for (int index = 0; (long) index * CHUNK_SIZE < data.length || index == 0; index++) {
                    int from = index * CHUNK_SIZE;
                    int to = Math.min(data.length, from + CHUNK_SIZE);
                    batch.put(chunks, Keys.chunk(id, index), ChunkSeal.seal(data, from, to));
                    if (to == data.length) {
                        break;
                    }
                }
                commitNew(batch, id, data.length, CHUNK_SIZE);
                return true;
            } catch (RocksDBException e) {
                throw new StorageFailureException("storing " + digest, e);
            }
        }
    }

    /**
     * The namespace's blobs, bytes, action results, uploads and oldest access; the budget, disk
     * use and eviction counts are the whole server's (one RocksDB, one --max-size).
     */
    Usage usage(Namespace namespace) throws StoreException {
        long disk = 0;
        long oldest = 0;
        try {
            for (ColumnFamilyHandle cf : List.of(chunks, meta, actions, uploads, lru)) {
                disk += db.getLongProperty(cf, "rocksdb.total-sst-files-size");
                disk += db.getLongProperty(cf, "rocksdb.total-blob-file-size");
            }
            byte[] prefix = namespace.prefix();
            try (RocksIterator it = db.newIterator(lru)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    if (Keys.inNamespace(it.key(), Long.BYTES, prefix)) {
                        oldest = Keys.lruMillis(it.key());
                        break;
                    }
                }
            }
            // Exact, not RocksDB's estimate (which counts finished uploads until compaction):
            // only unfinished uploads have rows, so this is a short scan.
            long inProgress = 0;
            try (RocksIterator it = db.newIterator(uploads)) {
                for (it.seek(prefix); it.isValid() && Keys.inNamespace(it.key(), 0, prefix); it.next()) {
                    inProgress++;
                }
            }
            NamespaceCounts c = counts(namespace);
            return new Usage(
                    c.blobs.get(),
                    c.bytes.get(),
                    c.actions.get(),
                    options.maxBytes(),
                    inProgress,
                    disk,
                    evictedBlobs.get(),
                    evictedBytes.get(),
                    oldest);
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading the store's statistics", e);
        }
    }

    /**
     * Prunes one namespace: its least recently used blobs, until its own stored bytes are at most
     * {@code keepBytes}. Pending access times are written first, so a blob read a moment ago counts as used.
     */
    PruneResult prune(Namespace namespace, long keepBytes, Duration unusedFor) throws StoreException {
        if (keepBytes < 0 || unusedFor.isNegative()) {
            throw new IllegalArgumentException("keep bytes and unused-for must not be negative");
        }
        long cutoff = unusedFor.isZero() ? Long.MAX_VALUE : clock.millis() - unusedFor.toMillis();
        return removeOldest(namespace, keepBytes, cutoff);
    }

    /**
     * Evicts least recently used blobs while stored bytes exceed --max-size, down to
     * {@link StoreOptions#evictionTarget()}. Runs on its own after commits; public for tests.
     */
    public PruneResult evictIfOverBudget() throws StoreException {
        if (options.maxBytes() == 0 || storedBytes.get() <= options.maxBytes()) {
            return new PruneResult(0, 0, blobCount.get(), storedBytes.get());
        }
        PruneResult evicted = removeOldest(null, options.evictionTarget(), Long.MAX_VALUE);
        log.info(
                "cache-server: evicted {} blobs ({} bytes) to stay under --max-size {}; {} bytes stored",
                evicted.blobsDeleted(),
                evicted.bytesFreed(),
                options.maxBytes(),
                evicted.storedBytes());
        return evicted;
    }

    /** Writes the access times noted since the last time; public for tests. */
    public void flushAccessTimes() throws StoreException {
        // Under the prune lock: an eviction must not choose a blob whose newer access time has
        // been drained from the map but not written yet.
        synchronized (pruneLock) {
            writeAccessTimes();
        }
    }

    private void writeAccessTimes() throws StoreException {
        for (Map.Entry<BlobId, Long> e : accessTimes.drain().entrySet()) {
            BlobId digest = e.getKey();
            synchronized (lockFor(digest)) {
                Optional<BlobMeta> current = loadMeta(digest);
                if (current.isEmpty() || current.get().lastAccessMillis() >= e.getValue()) {
                    continue;
                }
                BlobMeta before = current.get();
                BlobMeta after = before.accessedAt(e.getValue());
                try (WriteBatch batch = new WriteBatch()) {
                    batch.put(meta, Keys.blob(digest), after.encode());
                    batch.delete(lru, Keys.lru(before.lastAccessMillis(), digest));
                    batch.put(lru, Keys.lru(after.lastAccessMillis(), digest), sizeValue(after.size()));
                    write(batch, "recording access to " + digest);
                } catch (RocksDBException ex) {
                    throw new StorageFailureException("recording access to " + digest, ex);
                }
            }
        }
    }

    Optional<byte[]> getAction(Namespace namespace, String key) throws StoreException {
        try {
            return Optional.ofNullable(db.get(actions, Keys.action(namespace, key)));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading action result " + key, e);
        }
    }

    void putAction(Namespace namespace, String key, byte[] actionResult) throws StoreException {
        byte[] k = Keys.action(namespace, key);
        // Under a stripe lock so that two first writes of one key count it once.
        synchronized (stripes[Math.floorMod(java.util.Arrays.hashCode(k), stripes.length)]) {
            try {
                boolean known = db.get(actions, k) != null;
                db.put(actions, writeOptions, k, actionResult);
                if (!known) {
                    counts(namespace).actions.incrementAndGet();
                }
            } catch (RocksDBException e) {
                throw new StorageFailureException("storing action result " + key, e);
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        maintenance.shutdownNow();
        try {
            // An eviction pass in flight must end before the handles it uses are freed.
            if (!maintenance.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("cache-server: background maintenance did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            flushAccessTimes();
        } catch (StoreException | RuntimeException e) {
            log.warn("cache-server: could not record the last access times on close", e);
        }
        closed = true;
        activeWriters.clear();
        closeAll(handles);
    }

    // ---- for metrics ----

    public long storedBytes() {
        return storedBytes.get();
    }

    public long blobCount() {
        return blobCount.get();
    }

    public long maxBytes() {
        return options.maxBytes();
    }

    public long evictedBlobs() {
        return evictedBlobs.get();
    }

    public long evictedBytes() {
        return evictedBytes.get();
    }

    // ---- for the reader and writer ----

    Clock clock() {
        return clock;
    }

    Object lockFor(BlobId id) {
        return stripes[Math.floorMod(id.hashCode(), stripes.length)];
    }

    boolean isActive(RocksBlobWriter writer) {
        return activeWriters.get(writer.id()) == writer;
    }

    void release(RocksBlobWriter writer) {
        activeWriters.remove(writer.id(), writer);
    }

    /**
     * A chunk of a blob, checked to exist with the expected length and, for a sealed blob, its
     * CRC32C; otherwise the blob is corrupt (and removed).
     */
    ByteBuffer readChunk(ReadOptions readOptions, BlobId digest, BlobMeta blob, long index) throws StoreException {
        return readChunk(readOptions, digest, blob, index, (byte[]) null);
    }

    /**
     * Chunk {@code index} of a stored blob, checked. With {@code scratch} (at least {@link
     * #scratchFor} bytes) the chunk is read into it rather than into a new array, and the buffer
     * returned is a view of it.
     */
    ByteBuffer readChunk(ReadOptions readOptions, BlobId digest, BlobMeta blob, long index, byte[] scratch)
            throws StoreException {
        byte[] data;
        int stored;
        try {
            if (scratch == null) {
                data = db.get(chunks, readOptions, Keys.chunk(digest, index));
                stored = data == null ? RocksDB.NOT_FOUND : data.length;
            } else {
                data = scratch;
                stored = db.get(chunks, readOptions, Keys.chunk(digest, index), scratch);
            }
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading chunk " + index + " of " + digest, e);
        }
        return checked(digest, blob, index, stored, data == null ? null : ByteBuffer.wrap(data));
    }

    /**
     * As {@link #readChunk(ReadOptions, BlobId, BlobMeta, long, byte[])}, into direct buffers:
     * {@code key} (room for a chunk key) and {@code scratch} (at least {@link #scratchFor} bytes).
     * RocksDB copies the value straight into {@code scratch}, and a socket channel writes it
     * without the JDK's copy into a temporary direct buffer.
     */
    ByteBuffer readChunk(
            ReadOptions readOptions, BlobId digest, BlobMeta blob, long index, ByteBuffer key, ByteBuffer scratch)
            throws StoreException {
        int stored;
        try {
            key.clear().put(Keys.chunk(digest, index)).flip();
            scratch.clear();
            stored = db.get(chunks, readOptions, key, scratch);
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading chunk " + index + " of " + digest, e);
        }
        return checked(digest, blob, index, stored, scratch);
    }

    /**
     * The chunk's bytes in {@code buffer}, where {@code stored} bytes were read (all of the value,
     * when it fit), once they prove to be the chunk written: present, of the expected length and,
     * for a sealed blob, matching its CRC32C. Otherwise the blob is corrupt, and removed.
     */
    private ByteBuffer checked(BlobId digest, BlobMeta blob, long index, int stored, ByteBuffer buffer)
            throws StoreException {
        if (stored == RocksDB.NOT_FOUND) {
            throw quarantine(digest, "chunk " + index + " is missing");
        }
        int expected = blob.chunkLength(index);
        if (!blob.sealed()) {
            if (stored != expected) {
                throw quarantine(digest, "chunk " + index + " has " + stored + " bytes, expected " + expected);
            }
            return buffer.slice(0, stored);
        }
        // A longer value than the buffer holds fails here too: it cannot be the chunk written.
        ByteBuffer chunk = stored <= buffer.capacity() ? ChunkSeal.open(buffer, stored, expected) : null;
        if (chunk == null) {
            throw quarantine(
                    digest,
                    "chunk " + index + " does not match its checksum (" + stored + " bytes stored for " + expected
                            + ")");
        }
        return chunk;
    }

    /** The scratch array {@link #readChunk(ReadOptions, BlobId, BlobMeta, long, byte[])} needs for {@code blob}. */
    static int scratchFor(BlobMeta blob) {
        return (int) Math.min(blob.chunkSize(), blob.size()) + (blob.sealed() ? ChunkSeal.TRAILER : 0);
    }

    /** The bytes of an unfinished upload's chunk; null when it is missing or does not match its checksum. */
    byte[] readUploadChunk(BlobId digest, long index, int expectedLength) throws StoreException {
        try {
            byte[] data = db.get(chunks, Keys.chunk(digest, index));
            ByteBuffer chunk = data == null ? null : ChunkSeal.open(ByteBuffer.wrap(data), data.length, expectedLength);
            return chunk == null ? null : java.util.Arrays.copyOf(data, expectedLength);
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading chunk " + index + " of the upload of " + digest, e);
        }
    }

    /** Removes a blob that failed verification and returns the exception to throw. */
    BlobCorruptException quarantine(BlobId id, String what) throws StoreException {
        log.error("cache-server: blob {} is corrupt ({}); removing it", id, what);
        delete(id);
        return new BlobCorruptException(id.digest(), what);
    }

    /**
     * Adds a new blob's meta and LRU rows to {@code batch}, writes it and counts the blob; when
     * another upload committed the same digest meanwhile, writes the batch and counts nothing.
     * Called under the digest's lock.
     */
    void commitNew(WriteBatch batch, BlobId id, long size, int chunkSize) throws StoreException, RocksDBException {
        if (loadMeta(id).isPresent()) {
            write(batch, "finishing a second upload of " + id);
            return;
        }
        long now = clock.millis();
        batch.put(meta, Keys.blob(id), new BlobMeta(size, chunkSize, now, now).encode());
        batch.put(lru, Keys.lru(now, id), sizeValue(size));
        write(batch, "committing " + id);
        stored.add(id.namespace().salt(), Keys.digest(id.digest()));
        counts(id.namespace()).added(size);
        blobCount.incrementAndGet();
        if (storedBytes.addAndGet(size) > options.maxBytes() && options.maxBytes() > 0) {
            requestEviction();
        }
    }

    void write(WriteBatch batch, String what) throws StoreException {
        try {
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw new StorageFailureException(what, e);
        }
    }

    ColumnFamilyHandle chunksFamily() {
        return chunks;
    }

    ColumnFamilyHandle uploadsFamily() {
        return uploads;
    }

    /** The database, for {@link MountHeads}, which keeps its rows in {@link #mountsFamily()}. */
    RocksDB database() {
        return db;
    }

    ColumnFamilyHandle mountsFamily() {
        return mounts;
    }

    void releaseSnapshot(ReadOptions readOptions) {
        // After close the database has released its snapshots, and the handle is gone.
        if (!closed && readOptions.snapshot() != null) {
            db.releaseSnapshot(readOptions.snapshot());
        }
        readOptions.close();
    }

    // ---- internals ----

    private Optional<BlobMeta> loadMeta(BlobId digest) throws StoreException {
        try {
            byte[] value = db.get(meta, Keys.blob(digest));
            return value == null ? Optional.empty() : Optional.of(BlobMeta.decode(value));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading the metadata of " + digest, e);
        }
    }

    private Optional<UploadState> loadUpload(BlobId digest) throws StoreException {
        try {
            byte[] value = db.get(uploads, Keys.blob(digest));
            return value == null ? Optional.empty() : Optional.of(UploadState.decode(value));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading the upload state of " + digest, e);
        }
    }

    private void checkFits(Digest digest, long size) throws BlobTooLargeException {
        if (options.maxBytes() > 0 && size > options.maxBytes()) {
            throw new BlobTooLargeException(digest, size, options.maxBytes());
        }
    }

    /**
     * Deletes a blob: its meta, LRU and chunk rows in one batch. With {@code ifAccessedAt} ≥ 0,
     * only when its last access is still that time (an eviction must not remove a blob that
     * was read since it was chosen). Returns the bytes freed, or -1 when nothing was deleted.
     */
    private long deleteBlob(BlobId digest, long ifAccessedAt) throws StoreException {
        synchronized (lockFor(digest)) {
            Optional<BlobMeta> found = loadMeta(digest);
            if (found.isEmpty() || (ifAccessedAt >= 0 && found.get().lastAccessMillis() != ifAccessedAt)) {
                return -1;
            }
            BlobMeta m = found.get();
            try (WriteBatch batch = new WriteBatch()) {
                batch.delete(meta, Keys.blob(digest));
                batch.delete(lru, Keys.lru(m.lastAccessMillis(), digest));
                // Range tombstones slow later reads down; small blobs get point deletes.
                if (m.chunkCount() <= POINT_DELETE_CHUNKS) {
                    for (long i = 0; i < Math.max(1, m.chunkCount()); i++) {
                        batch.delete(chunks, Keys.chunk(digest, i));
                    }
                } else {
                    batch.deleteRange(chunks, Keys.chunk(digest, 0), Keys.chunksEnd(digest));
                }
                db.write(writeOptions, batch);
            } catch (RocksDBException e) {
                throw new StorageFailureException("deleting " + digest, e);
            }
            stored.remove(digest.namespace().salt(), Keys.digest(digest.digest()));
            counts(digest.namespace()).removed(m.size());
            blobCount.decrementAndGet();
            storedBytes.addAndGet(-m.size());
            return m.size();
        }
    }

    /**
     * Walks {@code blob_lru} from the oldest: deletes while over {@code keepBytes} and older than
     * {@code cutoff}. A prune names its namespace and counts that namespace's bytes; eviction
     * ({@code namespace} null) keeps the whole server under --max-size, whichever team's blobs are oldest.
     */
    private PruneResult removeOldest(Namespace namespace, long keepBytes, long cutoffMillis) throws StoreException {
        boolean eviction = namespace == null;
        AtomicLong bytes = eviction ? storedBytes : counts(namespace).bytes;
        AtomicLong blobs = eviction ? blobCount : counts(namespace).blobs;
        byte[] prefix = eviction ? null : namespace.prefix();
        synchronized (pruneLock) {
            flushAccessTimes();
            long deleted = 0;
            long freed = 0;
            try (RocksIterator it = db.newIterator(lru)) {
                for (it.seekToFirst(); it.isValid() && !closed; it.next()) {
                    byte[] key = it.key();
                    long accessed = Keys.lruMillis(key);
                    if (accessed >= cutoffMillis || (keepBytes > 0 && bytes.get() <= keepBytes)) {
                        break;
                    }
                    if (prefix != null && !Keys.inNamespace(key, Long.BYTES, prefix)) {
                        continue;
                    }
                    long size = deleteBlob(Keys.lruBlob(key), accessed);
                    if (size >= 0) {
                        deleted++;
                        freed += size;
                    }
                }
            }
            if (eviction) {
                evictedBlobs.addAndGet(deleted);
                evictedBytes.addAndGet(freed);
            }
            return new PruneResult(deleted, freed, blobs.get(), bytes.get());
        }
    }

    private NamespaceCounts counts(Namespace namespace) {
        return counts.computeIfAbsent(namespace, n -> new NamespaceCounts());
    }

    private void requestEviction() {
        if (evictionQueued.compareAndSet(false, true)) {
            try {
                maintenance.execute(this::maintain);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                evictionQueued.set(false); // closing
            }
        }
    }

    private void startMaintenance() {
        maintenance.scheduleWithFixedDelay(this::maintain, 1, 1, TimeUnit.SECONDS);
    }

    /** Background pass: pending access times, then eviction when over budget. */
    private void maintain() {
        evictionQueued.set(false);
        try {
            flushAccessTimes();
            evictIfOverBudget();
        } catch (StoreException | RuntimeException e) {
            // Keep the schedule alive: the next pass retries.
            log.error("cache-server: background maintenance failed", e);
        }
    }

    /**
     * Counts blobs, bytes and action entries, and rebuilds {@code blob_lru} when it does not match
     * {@code blob_meta} (a store made before the LRU index existed).
     */
    private void recount() throws StoreException {
        long blobs = 0;
        long bytes = 0;
        try (RocksIterator it = db.newIterator(meta)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                long size = BlobMeta.decode(it.value()).size();
                BlobId id = Keys.blobOf(it.key());
                blobs++;
                bytes += size;
                counts(id.namespace()).added(size);
                stored.add(id.namespace().salt(), Keys.digest(id.digest()));
            }
        }
        long indexed = 0;
        try (RocksIterator it = db.newIterator(lru)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                indexed++;
            }
        }
        long actionCount = 0;
        try (RocksIterator it = db.newIterator(actions)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                actionCount++;
                counts(Namespace.ofKey(it.key(), 0)).actions.incrementAndGet();
            }
        }
        if (indexed != blobs) {
            rebuildLru();
        }
        blobCount.set(blobs);
        storedBytes.set(bytes);
        log.info(
                "cache-server: {} blobs, {} bytes, {} action results{}",
                blobs,
                bytes,
                actionCount,
                options.maxBytes() > 0 ? "; --max-size " + options.maxBytes() + " bytes" : "; no --max-size");
    }

    private void rebuildLru() throws StoreException {
        log.info("cache-server: rebuilding the least-recently-used index from blob_meta");
        try (WriteBatch batch = new WriteBatch();
                RocksIterator it = db.newIterator(meta)) {
            byte[] end = new byte[Long.BYTES + 1];
            java.util.Arrays.fill(end, (byte) 0xff);
            batch.deleteRange(lru, new byte[0], end);
            for (it.seekToFirst(); it.isValid(); it.next()) {
                BlobMeta m = BlobMeta.decode(it.value());
                batch.put(lru, Keys.lru(m.lastAccessMillis(), Keys.blobOf(it.key())), sizeValue(m.size()));
            }
            write(batch, "rebuilding the LRU index");
        } catch (RocksDBException e) {
            throw new StorageFailureException("rebuilding the LRU index", e);
        }
    }

    private static byte[] sizeValue(long size) {
        return java.nio.ByteBuffer.allocate(Long.BYTES).putLong(size).array();
    }

    private void dropAbandonedUploads() throws StoreException {
        long cutoff = clock.millis() - ABANDONED_UPLOAD_AGE.toMillis();
        List<byte[]> abandoned = new ArrayList<>();
        try (RocksIterator it = db.newIterator(uploads)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                if (UploadState.decode(it.value()).startedMillis() < cutoff) {
                    abandoned.add(it.key());
                }
            }
        }
        for (byte[] key : abandoned) {
            BlobId digest = Keys.blobOf(key);
            try (WriteBatch batch = new WriteBatch()) {
                batch.delete(uploads, key);
                batch.deleteRange(chunks, Keys.chunk(digest, 0), Keys.chunksEnd(digest));
                write(batch, "dropping the abandoned upload of " + digest);
            } catch (RocksDBException e) {
                throw new StorageFailureException("dropping the abandoned upload of " + digest, e);
            }
        }
        if (!abandoned.isEmpty()) {
            log.info("cache-server: dropped {} uploads abandoned for over {}", abandoned.size(), ABANDONED_UPLOAD_AGE);
        }
    }

    private static <T extends AutoCloseable> T track(Deque<AutoCloseable> handles, T handle) {
        handles.push(handle);
        return handle;
    }

    private static void closeAll(Deque<AutoCloseable> handles) {
        while (!handles.isEmpty()) {
            try {
                handles.pop().close();
            } catch (Exception e) {
                log.warn("cache-server: closing a RocksDB handle failed", e);
            }
        }
    }

    private static byte[] bytes(String name) {
        return name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
