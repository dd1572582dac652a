package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the store does once when it opens, after {@link StoreFormat#migrate}: drops uploads
 * abandoned long ago, counts blobs, bytes and action results into {@link StoreCounts}, and
 * rebuilds {@code blob_lru} when it does not match {@code blob_meta} (a store made before the
 * LRU index existed).
 */
final class Recovery {

    /** Uploads untouched this long are abandoned: their chunks are dropped on open. */
    static final Duration ABANDONED_UPLOAD_AGE = Duration.ofDays(7);

    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    private final RocksDatabase db;
    private final StoreCounts counts;

    private Recovery(RocksDatabase db, StoreCounts counts) {
        this.db = db;
        this.counts = counts;
    }

    static void run(RocksDatabase db, StoreCounts counts, StoreOptions options, Clock clock) throws StoreException {
        Recovery recovery = new Recovery(db, counts);
        recovery.dropAbandonedUploads(clock.millis() - ABANDONED_UPLOAD_AGE.toMillis());
        recovery.recount(options);
    }

    private void dropAbandonedUploads(long cutoff) throws StoreException {
        List<byte[]> abandoned = new ArrayList<>();
        try (RocksCursor it = db.cursor(Family.UPLOADS, "listing unfinished uploads", "")) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                if (UploadState.decode(it.value()).startedMillis() < cutoff) {
                    abandoned.add(it.key());
                }
            }
        }
        for (byte[] key : abandoned) {
            BlobId digest = Keys.blobOf(key);
            try (RocksBatch batch = db.batch("dropping the abandoned upload of ", digest)) {
                batch.delete(Family.UPLOADS, key);
                batch.deleteRange(Family.CHUNKS, Keys.chunk(digest, 0), Keys.chunksEnd(digest));
                batch.write();
            }
        }
        if (!abandoned.isEmpty()) {
            log.info("cache-server: dropped {} uploads abandoned for over {}", abandoned.size(), ABANDONED_UPLOAD_AGE);
        }
    }

    private void recount(StoreOptions options) throws StoreException {
        long blobs = 0;
        long bytes = 0;
        try (RocksCursor it = db.cursor(Family.META, "counting blobs", "")) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                long size = BlobMeta.decode(it.value()).size();
                counts.added(Keys.blobOf(it.key()), size);
                blobs++;
                bytes += size;
            }
        }
        long indexed = 0;
        try (RocksCursor it = db.cursor(Family.LRU, "counting blobs", "")) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                indexed++;
            }
        }
        long actionCount = 0;
        try (RocksCursor it = db.cursor(Family.ACTIONS, "counting action results", "")) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                actionCount++;
                counts.in(Namespace.ofKey(it.key(), 0)).actions.incrementAndGet();
            }
        }
        if (indexed != blobs) {
            rebuildLru();
        }
        log.info(
                "cache-server: {} blobs, {} bytes, {} action results{}",
                blobs,
                bytes,
                actionCount,
                options.maxBytes() > 0 ? "; --max-size " + options.maxBytes() + " bytes" : "; no --max-size");
    }

    private void rebuildLru() throws StoreException {
        log.info("cache-server: rebuilding the least-recently-used index from blob_meta");
        try (RocksBatch batch = db.batch("rebuilding the LRU index", "");
                RocksCursor it = db.cursor(Family.META, "rebuilding the LRU index", "")) {
            byte[] end = new byte[Long.BYTES + 1];
            Arrays.fill(end, (byte) 0xff);
            batch.deleteRange(Family.LRU, new byte[0], end);
            for (it.seekToFirst(); it.isValid(); it.next()) {
                BlobMeta m = BlobMeta.decode(it.value());
                batch.put(
                        Family.LRU,
                        Keys.lru(m.lastAccessMillis(), Keys.blobOf(it.key())),
                        BlobRows.sizeValue(m.size()));
            }
            batch.write();
        }
    }
}
