package dev.stagefarm.cacheserver;

import dev.stagefarm.common.Digest;
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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
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
 * {@code action_cache}, {@code cache_mounts} (reserved) and {@code uploads} (unfinished uploads).
 */
public final class RocksStore implements BlobStore, ActionCacheStore, AutoCloseable {

    static final int CHUNK_SIZE = 1 << 20;
    static final String CHUNKS = "blob_chunks";
    static final String META = "blob_meta";
    static final String ACTIONS = "action_cache";
    static final String MOUNTS = "cache_mounts";
    static final String UPLOADS = "uploads";

    /** Block cache shared by all column families; mostly index, filter and meta blocks. */
    private static final long BLOCK_CACHE_BYTES = 256L << 20;
    /** Last-access times feed eviction, which needs hours of precision, not a write per read. */
    private static final Duration ACCESS_TIME_GRANULARITY = Duration.ofHours(1);
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
    private final ColumnFamilyHandle uploads;
    private final WriteOptions writeOptions;
    private final Clock clock;
    /** One upload session per digest at a time; stripes serialize each digest's writers. */
    private final ConcurrentMap<Digest, RocksBlobWriter> activeWriters = new ConcurrentHashMap<>();
    private final Object[] stripes = new Object[64];
    private volatile boolean closed;

    private RocksStore(Deque<AutoCloseable> handles, RocksDB db, List<ColumnFamilyHandle> cfs,
                       WriteOptions writeOptions, Clock clock) {
        this.handles = handles;
        this.db = db;
        this.chunks = cfs.get(1);
        this.meta = cfs.get(2);
        this.actions = cfs.get(3);
        this.uploads = cfs.get(5);
        this.writeOptions = writeOptions;
        this.clock = clock;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
    }

    /** Opens (creating if needed) the store in {@code dir}. */
    public static RocksStore open(Path dir, Clock clock) throws StoreException {
        Deque<AutoCloseable> handles = new ArrayDeque<>();
        try {
            Files.createDirectories(dir);
            LRUCache blockCache = track(handles, new LRUCache(BLOCK_CACHE_BYTES));
            BloomFilter bloom = track(handles, new BloomFilter(10));

            DBOptions dbOptions = track(handles, new DBOptions()
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
                    new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(bytes(CHUNKS), track(handles, chunkValues(blockCache))),
                    new ColumnFamilyDescriptor(bytes(META), track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(bytes(ACTIONS), track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(bytes(MOUNTS), track(handles, smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(bytes(UPLOADS), track(handles, smallValues(blockCache, bloom))));
            List<ColumnFamilyHandle> cfs = new ArrayList<>();
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, cfs);
            handles.push(db);
            // Column family handles must close before the database.
            cfs.forEach(handles::push);
            // No fsync per write: the WAL survives a killed process (SIGKILL), and a machine crash
            // losing the last commits only costs a re-upload in a content-addressed cache.
            WriteOptions writeOptions = track(handles, new WriteOptions());
            RocksStore store = new RocksStore(handles, db, cfs, writeOptions, clock);
            store.dropAbandonedUploads();
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
    private static ColumnFamilyOptions chunkValues(LRUCache blockCache) {
        return new ColumnFamilyOptions()
                .setCompressionType(CompressionType.NO_COMPRESSION)
                .setEnableBlobFiles(true)
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
        return new ColumnFamilyOptions()
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setWriteBufferSize(16L << 20)
                .setTableFormatConfig(new BlockBasedTableConfig()
                        .setBlockCache(blockCache)
                        .setFilterPolicy(bloom)
                        .setCacheIndexAndFilterBlocks(true)
                        .setPinL0FilterAndIndexBlocksInCache(true));
    }

    // ---- BlobStore ----

    @Override
    public boolean contains(Digest digest) throws StoreException {
        return loadMeta(digest).isPresent();
    }

    @Override
    public Set<Digest> missing(Collection<Digest> digests) throws StoreException {
        List<Digest> asked = List.copyOf(new LinkedHashSet<>(digests));
        List<byte[]> keys = asked.stream().map(Keys::digest).toList();
        List<ColumnFamilyHandle> cfs = java.util.Collections.nCopies(keys.size(), meta);
        try {
            List<byte[]> values = db.multiGetAsList(cfs, keys);
            Set<Digest> missing = new LinkedHashSet<>();
            for (int i = 0; i < asked.size(); i++) {
                if (values.get(i) == null) {
                    missing.add(asked.get(i));
                }
            }
            return missing;
        } catch (RocksDBException e) {
            throw new StorageFailureException("looking up " + keys.size() + " blobs", e);
        }
    }

    @Override
    public long size(Digest digest) throws StoreException {
        return loadMeta(digest).orElseThrow(() -> new BlobNotFoundException(digest)).size();
    }

    @Override
    public BlobReader openRead(Digest digest, long offset, long limit) throws StoreException {
        if (offset < 0 || limit < 0) {
            throw new IllegalArgumentException("offset and limit must not be negative");
        }
        BlobMeta m = touch(digest);
        if (offset > m.size()) {
            throw new InvalidRangeException(digest, offset, m.size());
        }
        long end = limit == 0 ? m.size() : Math.min(m.size(), offset + limit);
        // A snapshot keeps every chunk readable even if the blob is deleted mid-stream.
        ReadOptions readOptions = new ReadOptions().setSnapshot(db.getSnapshot());
        return new RocksBlobReader(this, digest, m, offset, end, readOptions);
    }

    @Override
    public Optional<BlobWriter> openWrite(Digest digest, long size) throws StoreException {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative");
        }
        synchronized (lockFor(digest)) {
            if (loadMeta(digest).isPresent()) {
                return Optional.empty();
            }
            RocksBlobWriter writer = RocksBlobWriter.resume(this, digest, size, loadUpload(digest).orElse(null));
            // Takes over from any earlier writer of this digest: a client resuming after a
            // broken stream must not wait for the server to notice the old one is dead.
            activeWriters.put(digest, writer);
            return Optional.of(writer);
        }
    }

    @Override
    public WriteStatus queryWrite(Digest digest) throws StoreException {
        Optional<BlobMeta> m = loadMeta(digest);
        if (m.isPresent()) {
            return new WriteStatus(m.get().size(), true);
        }
        return new WriteStatus(loadUpload(digest).map(UploadState::committedBytes).orElse(0L), false);
    }

    @Override
    public boolean delete(Digest digest) throws StoreException {
        synchronized (lockFor(digest)) {
            if (loadMeta(digest).isEmpty()) {
                return false;
            }
            try (WriteBatch batch = new WriteBatch()) {
                batch.delete(meta, Keys.digest(digest));
                batch.deleteRange(chunks, Keys.chunk(digest, 0), Keys.chunksEnd(digest));
                db.write(writeOptions, batch);
                return true;
            } catch (RocksDBException e) {
                throw new StorageFailureException("deleting " + digest, e);
            }
        }
    }

    // ---- ActionCacheStore ----

    @Override
    public Optional<byte[]> getAction(String key) throws StoreException {
        try {
            return Optional.ofNullable(db.get(actions, Keys.action(key)));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading action result " + key, e);
        }
    }

    @Override
    public void putAction(String key, byte[] actionResult) throws StoreException {
        try {
            db.put(actions, writeOptions, Keys.action(key), actionResult);
        } catch (RocksDBException e) {
            throw new StorageFailureException("storing action result " + key, e);
        }
    }

    @Override
    public void close() {
        closed = true;
        activeWriters.clear();
        closeAll(handles);
    }

    // ---- for the reader and writer ----

    Clock clock() {
        return clock;
    }

    Object lockFor(Digest digest) {
        return stripes[Math.floorMod(digest.hashCode(), stripes.length)];
    }

    boolean isActive(RocksBlobWriter writer) {
        return activeWriters.get(writer.digest()) == writer;
    }

    void release(RocksBlobWriter writer) {
        activeWriters.remove(writer.digest(), writer);
    }

    /** A chunk of a blob, checked to exist with the expected length; otherwise the blob is corrupt. */
    byte[] readChunk(ReadOptions readOptions, Digest digest, long index, int expectedLength) throws StoreException {
        byte[] data;
        try {
            data = db.get(chunks, readOptions, Keys.chunk(digest, index));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading chunk " + index + " of " + digest, e);
        }
        if (data == null) {
            throw quarantine(digest, "chunk " + index + " is missing");
        }
        if (data.length != expectedLength) {
            throw quarantine(digest, "chunk " + index + " has " + data.length + " bytes, expected " + expectedLength);
        }
        return data;
    }

    /** Reads a chunk of an unfinished upload; null when it is missing or the wrong length. */
    byte[] readUploadChunk(Digest digest, long index, int expectedLength) throws StoreException {
        try {
            byte[] data = db.get(chunks, Keys.chunk(digest, index));
            return data != null && data.length == expectedLength ? data : null;
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading chunk " + index + " of the upload of " + digest, e);
        }
    }

    /** Removes a blob that failed verification and returns the exception to throw. */
    BlobCorruptException quarantine(Digest digest, String what) throws StoreException {
        log.error("cache-server: blob {} is corrupt ({}); removing it", digest, what);
        delete(digest);
        return new BlobCorruptException(digest, what);
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

    ColumnFamilyHandle metaFamily() {
        return meta;
    }

    ColumnFamilyHandle uploadsFamily() {
        return uploads;
    }

    void releaseSnapshot(ReadOptions readOptions) {
        // After close the database has released its snapshots, and the handle is gone.
        if (!closed && readOptions.snapshot() != null) {
            db.releaseSnapshot(readOptions.snapshot());
        }
        readOptions.close();
    }

    // ---- internals ----

    private Optional<BlobMeta> loadMeta(Digest digest) throws StoreException {
        try {
            byte[] value = db.get(meta, Keys.digest(digest));
            return value == null ? Optional.empty() : Optional.of(BlobMeta.decode(value));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading the metadata of " + digest, e);
        }
    }

    private Optional<UploadState> loadUpload(Digest digest) throws StoreException {
        try {
            byte[] value = db.get(uploads, Keys.digest(digest));
            return value == null ? Optional.empty() : Optional.of(UploadState.decode(value));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading the upload state of " + digest, e);
        }
    }

    /** The blob's meta, with its last-access time refreshed when it is stale. */
    private BlobMeta touch(Digest digest) throws StoreException {
        BlobMeta m = loadMeta(digest).orElseThrow(() -> new BlobNotFoundException(digest));
        long now = clock.millis();
        if (now - m.lastAccessMillis() < ACCESS_TIME_GRANULARITY.toMillis()) {
            return m;
        }
        synchronized (lockFor(digest)) {
            // Re-read under the lock so a concurrent delete is not undone by this write.
            Optional<BlobMeta> current = loadMeta(digest);
            if (current.isEmpty()) {
                throw new BlobNotFoundException(digest);
            }
            BlobMeta touched = current.get().accessedAt(now);
            try {
                db.put(meta, writeOptions, Keys.digest(digest), touched.encode());
            } catch (RocksDBException e) {
                throw new StorageFailureException("recording access to " + digest, e);
            }
            return touched;
        }
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
            Digest digest = Keys.digest(key);
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
