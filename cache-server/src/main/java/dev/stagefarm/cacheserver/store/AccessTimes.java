package dev.stagefarm.cacheserver.store;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Last-access times waiting to be written. A read or a FindMissing hit only puts the digest in
 * this map (a hash-map write, no RocksDB write on the request path); the store writes them
 * in the background every second and before every eviction or prune. A blob is recorded at most
 * once per {@link #GRANULARITY_MILLIS}, which is plenty for least-recently-used ordering. Times
 * not yet written when the process dies are lost, which only makes those blobs look older.
 */
public final class AccessTimes {

    static final long GRANULARITY_MILLIS = 60_000;

    private final ConcurrentHashMap<BlobId, Long> pending = new ConcurrentHashMap<>();

    /** Notes an access at {@code now} to a blob last recorded at {@code recordedMillis}. */
    void accessed(BlobId digest, long recordedMillis, long now) {
        if (now - recordedMillis >= GRANULARITY_MILLIS) {
            pending.merge(digest, now, Math::max);
        }
    }

    /** Removes and returns the pending times. */
    Map<BlobId, Long> drain() {
        Map<BlobId, Long> out = new HashMap<>();
        for (BlobId d : pending.keySet()) {
            Long t = pending.remove(d);
            if (t != null) {
                out.put(d, t);
            }
        }
        return out;
    }
}
