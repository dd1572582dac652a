package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import java.util.Arrays;
import java.util.Optional;

/** Action results in {@code action_cache}, one row per namespace and key, counted per namespace. */
final class ActionRows {

    private final RocksDatabase db;
    private final StoreCounts counts;
    /** Two first writes of one key must count it once. */
    private final Object[] stripes = new Object[64];

    ActionRows(RocksDatabase db, StoreCounts counts) {
        this.db = db;
        this.counts = counts;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
    }

    Optional<byte[]> get(Namespace namespace, String key) throws StoreException {
        return Optional.ofNullable(db.get(Family.ACTIONS, Keys.action(namespace, key), "reading action result ", key));
    }

    void put(Namespace namespace, String key, byte[] actionResult) throws StoreException {
        byte[] k = Keys.action(namespace, key);
        synchronized (stripes[Math.floorMod(Arrays.hashCode(k), stripes.length)]) {
            boolean known = db.get(Family.ACTIONS, k, "storing action result ", key) != null;
            db.put(Family.ACTIONS, k, actionResult, "storing action result ", key);
            if (!known) {
                counts.in(namespace).actions.incrementAndGet();
            }
        }
    }
}
