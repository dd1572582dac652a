package dev.stagefarm.cacheserver.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.cacheserver.mounts.MountStore;
import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import dev.stagefarm.proto.cache.MountHead;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head records of shared cache mounts, one row per team and id in the {@code cache_mounts}
 * column family of the cache's RocksDB ({@link MountKey#rowKey()} → serialized {@link MountHead}).
 * The manifests themselves are CAS blobs. Callers serialize changes of one mount ({@link MountStore}).
 */
public final class MountHeads {

    private static final Logger log = LoggerFactory.getLogger(MountHeads.class);

    private final RocksDatabase db;

    public MountHeads(RocksStore store) {
        this.db = store.database();
    }

    public Optional<MountHead> get(MountKey key) throws StoreException {
        byte[] value = db.get(Family.MOUNTS, key.rowKey(), "reading the head of cache mount ", key);
        return value == null ? Optional.empty() : Optional.of(decode(key, value));
    }

    public void put(MountKey key, MountHead head) throws StoreException {
        db.put(Family.MOUNTS, key.rowKey(), head.toByteArray(), "writing the head of cache mount ", key);
    }

    public boolean delete(MountKey key) throws StoreException {
        if (get(key).isEmpty()) {
            return false;
        }
        try (RocksBatch batch = db.batch("dropping cache mount ", key)) {
            batch.delete(Family.MOUNTS, key.rowKey());
            batch.write();
            return true;
        }
    }

    /** Every head of {@code team}, by id. */
    public List<MountHead> list(String team) throws StoreException {
        byte[] prefix = MountKey.teamPrefix(team);
        List<MountHead> heads = new ArrayList<>();
        try (RocksCursor it = db.cursor(Family.MOUNTS, "listing the cache mounts of team ", "'" + team + "'")) {
            for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
                MountKey key = new MountKey(team, MountKey.idOf(team, it.key()));
                heads.add(decode(key, it.value()));
            }
            it.check();
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
