package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk layout's version, kept in the default column family. Version 2 prefixes every
 * row with its {@link Namespace}. A store written before namespaces (no version row, keys
 * without a prefix) is migrated into the default namespace when it opens, so an existing
 * cache keeps its contents: teams' tokens then start empty namespaces, and the old contents
 * stay with callers of a server without tokens.
 *
 * <p>The migration is safe to interrupt. Chunks are moved first, in batches, and an old chunk
 * key (40 bytes) is told from a new one (41 or more) by its length, so a rerun continues where
 * a killed one stopped. The small families (meta, LRU, uploads, action results) and the version
 * row then move in one atomic batch: an action key's old and new forms cannot be told apart, so
 * they must never be half moved. That batch holds about 200 bytes per blob in memory.
 */
final class StoreFormat {

    static final int CURRENT = 2;
    private static final byte[] VERSION_KEY = "stagefarm.store.format".getBytes(StandardCharsets.UTF_8);
    private static final int CHUNKS_PER_BATCH = 64;
    private static final int LEGACY_DIGEST_KEY = Keys.DIGEST_BYTES;
    private static final int LEGACY_CHUNK_KEY = Keys.DIGEST_BYTES + Long.BYTES;
    private static final int LEGACY_LRU_KEY = Long.BYTES + Keys.DIGEST_BYTES;
    private static final byte[] DEFAULT_PREFIX = Namespace.DEFAULT.prefix();
    private static final String MIGRATING = "migrating the store to format version " + CURRENT;

    private static final Logger log = LoggerFactory.getLogger(StoreFormat.class);

    private StoreFormat() {}

    /**
     * Brings the store to {@link #CURRENT}.
     *
     * @throws StorageFailureException when the store is from a newer stagefarm, or RocksDB fails
     */
    static void migrate(RocksDatabase db) throws StoreException {
        byte[] stored = db.get(Family.DEFAULT, VERSION_KEY, MIGRATING, "");
        if (stored != null) {
            int found = Integer.parseInt(new String(stored, StandardCharsets.UTF_8));
            if (found > CURRENT) {
                throw StorageFailureException.unreadable("the store's format is version " + found
                        + ", written by a newer stagefarm; this one reads version " + CURRENT
                        + ": run the newer cache-server, or give this one an empty --data directory");
            }
            return;
        }
        long moved = moveLegacyChunks(db);
        try (RocksBatch batch = db.batch(MIGRATING, "")) {
            long rows = moveLegacy(db, batch, Family.META, LEGACY_DIGEST_KEY, 0)
                    + moveLegacy(db, batch, Family.UPLOADS, LEGACY_DIGEST_KEY, 0)
                    + moveLegacy(db, batch, Family.LRU, LEGACY_LRU_KEY, Long.BYTES)
                    + moveLegacy(db, batch, Family.ACTIONS, -1, 0);
            batch.put(Family.DEFAULT, VERSION_KEY, Integer.toString(CURRENT).getBytes(StandardCharsets.UTF_8));
            batch.write();
            if (moved + rows > 0) {
                log.info(
                        "cache-server: moved a store from before namespaces into the default namespace"
                                + " ({} chunks, {} index rows); teams with tokens start with empty namespaces",
                        moved,
                        rows);
            }
        }
    }

    private static long moveLegacyChunks(RocksDatabase db) throws StoreException {
        long moved = 0;
        try (RocksBatch batch = db.batch(MIGRATING, "");
                RocksCursor it = db.cursor(Family.CHUNKS, MIGRATING, "")) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (key.length != LEGACY_CHUNK_KEY) {
                    continue;
                }
                batch.put(Family.CHUNKS, withPrefix(key, 0), it.value());
                batch.delete(Family.CHUNKS, key);
                if (++moved % CHUNKS_PER_BATCH == 0) {
                    batch.write();
                    batch.clear();
                }
            }
            batch.write();
        }
        return moved;
    }

    /** Adds the moves of one small family's legacy rows (all of them when {@code legacyLength} < 0). */
    private static long moveLegacy(RocksDatabase db, RocksBatch batch, Family family, int legacyLength, int at)
            throws StoreException {
        long moved = 0;
        try (RocksCursor it = db.cursor(family, MIGRATING, "")) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (legacyLength >= 0 && key.length != legacyLength) {
                    continue;
                }
                batch.put(family, withPrefix(key, at), it.value());
                batch.delete(family, key);
                moved++;
            }
        }
        return moved;
    }

    /** {@code key} with the default namespace's prefix inserted at {@code at}. */
    private static byte[] withPrefix(byte[] key, int at) {
        return ByteBuffer.allocate(key.length + DEFAULT_PREFIX.length)
                .put(key, 0, at)
                .put(DEFAULT_PREFIX)
                .put(key, at, key.length - at)
                .array();
    }
}
