package dev.stagefarm.cacheserver.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache's RocksDB: opens it (tuned by {@link RocksTuning}), owns every native handle (options, caches, column
 * families, the database) and closes them all. Every RocksDB call of the store goes through this
 * class, its {@link RocksBatch} or its {@link RocksCursor}, and each {@link RocksDBException} is
 * translated there, once, into a {@link StorageFailureException} saying what the store was doing:
 * {@code doing} followed by {@code subject}, joined only when a call fails.
 */
final class RocksDatabase implements AutoCloseable {

    static final String CHUNKS = "blob_chunks";
    static final String META = "blob_meta";
    static final String ACTIONS = "action_cache";
    static final String MOUNTS = "cache_mounts";
    static final String UPLOADS = "uploads";
    static final String LRU = "blob_lru";

    /** The column families, in the order they are opened. */
    enum Family {
        DEFAULT,
        CHUNKS,
        META,
        ACTIONS,
        MOUNTS,
        UPLOADS,
        LRU
    }

    private static final Logger log = LoggerFactory.getLogger(RocksDatabase.class);

    static {
        RocksDB.loadLibrary();
    }

    /** Native handles in the order they were made; closed in reverse. */
    private final Deque<AutoCloseable> handles;

    private final RocksDB db;
    /** Indexed by {@link Family#ordinal()}. */
    private final ColumnFamilyHandle[] families;

    private final WriteOptions writeOptions;
    private volatile boolean closed;

    private RocksDatabase(
            Deque<AutoCloseable> handles, RocksDB db, List<ColumnFamilyHandle> cfs, WriteOptions writeOptions) {
        this.handles = handles;
        this.db = db;
        this.families = cfs.toArray(ColumnFamilyHandle[]::new);
        this.writeOptions = writeOptions;
    }

    /** Opens (creating if needed) the database in {@code dir}. */
    static RocksDatabase open(Path dir, StoreOptions storeOptions) throws StoreException {
        Deque<AutoCloseable> handles = new ArrayDeque<>();
        try {
            Files.createDirectories(dir);
            LRUCache blockCache = track(handles, new LRUCache(RocksTuning.BLOCK_CACHE_BYTES));
            BloomFilter bloom = track(handles, new BloomFilter(10));

            DBOptions dbOptions = track(handles, RocksTuning.database());

            // In Family order.
            List<ColumnFamilyDescriptor> descriptors = List.of(
                    new ColumnFamilyDescriptor(
                            RocksDB.DEFAULT_COLUMN_FAMILY, track(handles, RocksTuning.smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(
                            bytes(CHUNKS),
                            track(handles, RocksTuning.chunkValues(blockCache, storeOptions.blobFiles()))),
                    new ColumnFamilyDescriptor(bytes(META), track(handles, RocksTuning.smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(
                            bytes(ACTIONS), track(handles, RocksTuning.smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(
                            bytes(MOUNTS), track(handles, RocksTuning.smallValues(blockCache, bloom))),
                    new ColumnFamilyDescriptor(
                            bytes(UPLOADS), track(handles, RocksTuning.smallValues(blockCache, bloom))),
                    // Only ever scanned in order, never looked up: no bloom filter.
                    new ColumnFamilyDescriptor(bytes(LRU), track(handles, RocksTuning.smallValues(blockCache, null))));
            List<ColumnFamilyHandle> cfs = new ArrayList<>();
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, cfs);
            handles.push(db);
            // Column family handles must close before the database.
            cfs.forEach(handles::push);
            // No fsync per write: the WAL survives a killed process (SIGKILL), and a machine crash
            // losing the last commits only costs a re-upload in a content-addressed cache.
            WriteOptions writeOptions = track(handles, new WriteOptions());
            return new RocksDatabase(handles, db, cfs, writeOptions);
        } catch (RocksDBException | IOException e) {
            closeAll(handles);
            throw new StorageFailureException("opening " + dir, e);
        } catch (RuntimeException | Error e) {
            closeAll(handles);
            throw e;
        }
    }

    ColumnFamilyHandle handle(Family family) {
        return families[family.ordinal()];
    }

    /** The value of {@code key}, or null. */
    byte[] get(Family family, byte[] key, String doing, Object subject) throws StorageFailureException {
        try {
            return db.get(handle(family), key);
        } catch (RocksDBException e) {
            throw failed(doing, subject, e);
        }
    }

    /** The value of {@code key} as {@code read} sees it, or null. */
    byte[] get(Family family, ReadOptions read, byte[] key, String doing, Object subject)
            throws StorageFailureException {
        try {
            return db.get(handle(family), read, key);
        } catch (RocksDBException e) {
            throw failed(doing, subject, e);
        }
    }

    /** Reads {@code key}'s value into {@code value}: its whole length, or {@link RocksDB#NOT_FOUND}. */
    int get(Family family, ReadOptions read, byte[] key, byte[] value, String doing, Object subject)
            throws StorageFailureException {
        try {
            return db.get(handle(family), read, key, value);
        } catch (RocksDBException e) {
            throw failed(doing, subject, e);
        }
    }

    /** As {@link #get(Family, ReadOptions, byte[], byte[], String, Object)}, between direct buffers. */
    int get(Family family, ReadOptions read, ByteBuffer key, ByteBuffer value, String doing, Object subject)
            throws StorageFailureException {
        try {
            return db.get(handle(family), read, key, value);
        } catch (RocksDBException e) {
            throw failed(doing, subject, e);
        }
    }

    /** The values of {@code keys} (null where absent), in order; {@code keys} must not be empty. */
    List<byte[]> multiGet(Family family, List<byte[]> keys, String doing, Object subject)
            throws StorageFailureException {
        try {
            return db.multiGetAsList(Collections.nCopies(keys.size(), handle(family)), keys);
        } catch (RocksDBException e) {
            throw failed(doing, subject, e);
        }
    }

    void put(Family family, byte[] key, byte[] value, String doing, Object subject) throws StorageFailureException {
        try {
            db.put(handle(family), writeOptions, key, value);
        } catch (RocksDBException e) {
            throw failed(doing, subject, e);
        }
    }

    /** A new write batch; a failure while building or writing it is described by {@code doing} {@code subject}. */
    RocksBatch batch(String doing, Object subject) {
        return new RocksBatch(this, doing, subject);
    }

    /** A new iterator over {@code family}; close it. */
    RocksCursor cursor(Family family, String doing, Object subject) {
        return new RocksCursor(db.newIterator(handle(family)), doing, subject);
    }

    long property(Family family, String name) throws StorageFailureException {
        try {
            return db.getLongProperty(handle(family), name);
        } catch (RocksDBException e) {
            throw failed("reading the store's statistics", "", e);
        }
    }

    /**
     * Read options on a new snapshot, for a blob read: the snapshot keeps every chunk readable even
     * if the blob is deleted mid-stream. RocksDB's own checksums are skipped: the reader checks
     * every chunk's CRC32C (or an old blob's sha256) anyway, and a mismatch is handled the same
     * way. Chunks bypass the block cache, which is for the small families' index, filter and data
     * blocks, not for streaming gigabytes through. Give them back with {@link #release}.
     */
    ReadOptions snapshotReads() {
        return new ReadOptions()
                .setSnapshot(db.getSnapshot())
                .setVerifyChecksums(false)
                .setFillCache(false);
    }

    void release(ReadOptions readOptions) {
        // After close the database has released its snapshots, and the handle is gone.
        if (!closed && readOptions.snapshot() != null) {
            db.releaseSnapshot(readOptions.snapshot());
        }
        readOptions.close();
    }

    void write(WriteBatch batch, String doing, Object subject) throws StorageFailureException {
        try {
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw failed(doing, subject, e);
        }
    }

    static StorageFailureException failed(String doing, Object subject, RocksDBException e) {
        return new StorageFailureException(doing + subject, e);
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeAll(handles);
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
        return name.getBytes(StandardCharsets.UTF_8);
    }
}
