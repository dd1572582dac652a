package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/** Changes written together, atomically, by {@link #write()}; made by {@link RocksDatabase#batch}. */
final class RocksBatch implements AutoCloseable {

    private final RocksDatabase database;
    private final WriteBatch batch = new WriteBatch();
    private final String doing;
    private final Object subject;

    RocksBatch(RocksDatabase database, String doing, Object subject) {
        this.database = database;
        this.doing = doing;
        this.subject = subject;
    }

    RocksBatch put(Family family, byte[] key, byte[] value) throws StorageFailureException {
        try {
            batch.put(database.handle(family), key, value);
            return this;
        } catch (RocksDBException e) {
            throw RocksDatabase.failed(doing, subject, e);
        }
    }

    RocksBatch delete(Family family, byte[] key) throws StorageFailureException {
        try {
            batch.delete(database.handle(family), key);
            return this;
        } catch (RocksDBException e) {
            throw RocksDatabase.failed(doing, subject, e);
        }
    }

    /** Deletes the keys from {@code from} (inclusive) to {@code to} (exclusive) with one range tombstone. */
    RocksBatch deleteRange(Family family, byte[] from, byte[] to) throws StorageFailureException {
        try {
            batch.deleteRange(database.handle(family), from, to);
            return this;
        } catch (RocksDBException e) {
            throw RocksDatabase.failed(doing, subject, e);
        }
    }

    /** Writes the changes so far. */
    void write() throws StorageFailureException {
        database.write(batch, doing, subject);
    }

    /** Empties the batch (after {@link #write()}), to fill it again. */
    void clear() {
        batch.clear();
    }

    @Override
    public void close() {
        batch.close();
    }
}
