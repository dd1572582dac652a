package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import java.util.List;

/**
 * A namespace's {@link Usage}: its blobs, bytes, action results, uploads and oldest access; the
 * budget, disk use and eviction counts are the whole server's (one RocksDB, one --max-size).
 */
final class StoreStats {

    private static final List<Family> ON_DISK =
            List.of(Family.CHUNKS, Family.META, Family.ACTIONS, Family.UPLOADS, Family.LRU);

    private final RocksDatabase db;
    private final StoreCounts counts;
    private final StoreOptions options;

    StoreStats(RocksDatabase db, StoreCounts counts, StoreOptions options) {
        this.db = db;
        this.counts = counts;
        this.options = options;
    }

    Usage usage(Namespace namespace) throws StoreException {
        long disk = 0;
        for (Family family : ON_DISK) {
            disk += db.property(family, "rocksdb.total-sst-files-size");
            disk += db.property(family, "rocksdb.total-blob-file-size");
        }
        byte[] prefix = namespace.prefix();
        long oldest = 0;
        try (RocksCursor it = db.cursor(Family.LRU, "reading the store's statistics", "")) {
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
        try (RocksCursor it = db.cursor(Family.UPLOADS, "reading the store's statistics", "")) {
            for (it.seek(prefix); it.isValid() && Keys.inNamespace(it.key(), 0, prefix); it.next()) {
                inProgress++;
            }
        }
        NamespaceCounts c = counts.in(namespace);
        return new Usage(
                c.blobs.get(),
                c.bytes.get(),
                c.actions.get(),
                options.maxBytes(),
                inProgress,
                disk,
                counts.evictedBlobs.get(),
                counts.evictedBytes.get(),
                oldest);
    }
}
