package dev.stagefarm.cacheserver.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.cacheserver.mounts.MountStore;
import dev.stagefarm.proto.cache.MountHead;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head records of shared cache mounts, one row per team and id in the {@code cache_mounts}
 * column family of the cache's RocksDB ({@link MountKey#rowKey()} → serialized {@link MountHead}).
 * The manifests themselves are CAS blobs. Callers serialize changes of one mount ({@link MountStore}).
 */
public final class MountHeads {

    private static final Logger log = LoggerFactory.getLogger(MountHeads.class);

    private final RocksStore store;
    private final RocksDB db;
    private final ColumnFamilyHandle family;

    public MountHeads(RocksStore store) {
        this.store = store;
        this.db = store.database();
        this.family = store.mountsFamily();
    }

    public Optional<MountHead> get(MountKey key) throws StoreException {
        try {
            byte[] value = db.get(family, key.rowKey());
            return value == null ? Optional.empty() : Optional.of(decode(key, value));
        } catch (RocksDBException e) {
            throw new StorageFailureException("reading the head of cache mount " + key, e);
        }
    }

    public void put(MountKey key, MountHead head) throws StoreException {
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(family, key.rowKey(), head.toByteArray());
            store.write(batch, "writing the head of cache mount " + key);
        } catch (RocksDBException e) {
            throw new StorageFailureException("writing the head of cache mount " + key, e);
        }
    }

    public boolean delete(MountKey key) throws StoreException {
        if (get(key).isEmpty()) {
            return false;
        }
        try (WriteBatch batch = new WriteBatch()) {
            batch.delete(family, key.rowKey());
            store.write(batch, "dropping cache mount " + key);
            return true;
        } catch (RocksDBException e) {
            throw new StorageFailureException("dropping cache mount " + key, e);
        }
    }

    /** Every head of {@code team}, by id. */
    public List<MountHead> list(String team) throws StoreException {
        byte[] prefix = MountKey.teamPrefix(team);
        List<MountHead> heads = new ArrayList<>();
        try (ReadOptions options = new ReadOptions();
                RocksIterator it = db.newIterator(family, options)) {
            for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
                MountKey key = new MountKey(team, MountKey.idOf(team, it.key()));
                heads.add(decode(key, it.value()));
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StorageFailureException("listing the cache mounts of team '" + team + "'", e);
        }
        return heads;
    }

    private static MountHead decode(MountKey key, byte[] value) {
        try {
            return MountHead.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            // An unreadable head only costs the mount its contents: start it over, empty.
            log.error("cache-server: the head of cache mount {} is unreadable; treating the mount as empty", key, e);
            return MountHead.newBuilder().setId(key.id()).build();
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }
}
