package dev.stagefarm.cacheserver.store;

import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/** Walks one column family in key order; made by {@link RocksDatabase#cursor}. */
final class RocksCursor implements AutoCloseable {

    private final RocksIterator it;
    private final String doing;
    private final Object subject;

    RocksCursor(RocksIterator it, String doing, Object subject) {
        this.it = it;
        this.doing = doing;
        this.subject = subject;
    }

    void seekToFirst() {
        it.seekToFirst();
    }

    void seek(byte[] key) {
        it.seek(key);
    }

    boolean isValid() {
        return it.isValid();
    }

    void next() {
        it.next();
    }

    byte[] key() {
        return it.key();
    }

    byte[] value() {
        return it.value();
    }

    /** Throws when the walk ended because RocksDB failed, rather than at the end of the rows. */
    void check() throws StorageFailureException {
        try {
            it.status();
        } catch (RocksDBException e) {
            throw RocksDatabase.failed(doing, subject, e);
        }
    }

    @Override
    public void close() {
        it.close();
    }
}
