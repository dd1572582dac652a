package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes least recently used blobs by walking {@code blob_lru} from the oldest: on its own to
 * keep each team under its quota and the server under --max-size (on a background thread, which
 * also writes the pending access times every second), and on request for one namespace
 * ({@link #prune}). A team over its quota loses its own oldest blobs first, so one team filling
 * the cache cannot push every other team's out.
 */
final class Eviction {

    private static final Logger log = LoggerFactory.getLogger(Eviction.class);

    private final RocksDatabase db;
    private final BlobRows rows;
    private final StoreCounts counts;
    private final AccessTimes accessTimes;
    private final StoreOptions options;
    private final Clock clock;
    private final AtomicBoolean evictionQueued = new AtomicBoolean();
    /** Writes access times and evicts in the background, off the request path. */
    private final ScheduledExecutorService maintenance;
    /** One eviction or prune at a time. */
    private final Object pruneLock = new Object();

    Eviction(
            RocksDatabase db,
            BlobRows rows,
            StoreCounts counts,
            AccessTimes accessTimes,
            StoreOptions options,
            Clock clock) {
        this.db = db;
        this.rows = rows;
        this.counts = counts;
        this.accessTimes = accessTimes;
        this.options = options;
        this.clock = clock;
        this.maintenance = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("cache-maintenance").daemon().factory());
    }

    /**
     * Prunes one namespace: its least recently used blobs, until its own stored bytes are at most
     * {@code keepBytes}. Pending access times are written first, so a blob read a moment ago counts as used.
     */
    PruneResult prune(Namespace namespace, long keepBytes, Duration unusedFor) throws StoreException {
        if (keepBytes < 0 || unusedFor.isNegative()) {
            throw new IllegalArgumentException("keep bytes and unused-for must not be negative");
        }
        long cutoff = unusedFor.isZero() ? Long.MAX_VALUE : clock.millis() - unusedFor.toMillis();
        return removeOldest(namespace, keepBytes, cutoff);
    }

    /**
     * Evicts least recently used blobs while stored bytes exceed --max-size, down to
     * {@link StoreOptions#evictionTarget()}.
     */
    PruneResult evictIfOverBudget() throws StoreException {
        if (options.maxBytes() == 0 || counts.bytes().get() <= options.maxBytes()) {
            return new PruneResult(0, 0, counts.blobs().get(), counts.bytes().get());
        }
        PruneResult evicted = removeOldest(null, options.evictionTarget(), Long.MAX_VALUE);
        log.info(
                "cache-server: evicted {} blobs ({} bytes) to stay under --max-size {}; {} bytes stored",
                evicted.blobsDeleted(),
                evicted.bytesFreed(),
                options.maxBytes(),
                evicted.storedBytes());
        return evicted;
    }

    /** Whether the namespace stores more than its team's quota. */
    boolean overQuota(Namespace namespace) {
        long quota = options.quota(namespace);
        return quota > 0 && counts.in(namespace).bytes.get() > quota;
    }

    /** Evicts, in each team over its quota, that team's least recently used blobs down to 95% of the quota. */
    PruneResult evictTeamsOverQuota() throws StoreException {
        long deleted = 0;
        long freed = 0;
        for (Namespace namespace : java.util.List.copyOf(counts.namespaces())) {
            if (!overQuota(namespace)) {
                continue;
            }
            long quota = options.quota(namespace);
            PruneResult evicted = removeOldest(namespace, StoreOptions.target(quota), Long.MAX_VALUE);
            counts.evictedBlobs.addAndGet(evicted.blobsDeleted());
            counts.evictedBytes.addAndGet(evicted.bytesFreed());
            deleted += evicted.blobsDeleted();
            freed += evicted.bytesFreed();
            log.info(
                    "cache-server: evicted {} blobs ({} bytes) of {} to keep it under its quota of {} bytes; {} bytes stored",
                    evicted.blobsDeleted(),
                    evicted.bytesFreed(),
                    namespace,
                    quota,
                    evicted.storedBytes());
        }
        return new PruneResult(
                deleted, freed, counts.blobs().get(), counts.bytes().get());
    }

    /** Writes the access times noted since the last time. */
    void flushAccessTimes() throws StoreException {
        // Under the prune lock: an eviction must not choose a blob whose newer access time has
        // been drained from the map but not written yet.
        synchronized (pruneLock) {
            for (Map.Entry<BlobId, Long> e : accessTimes.drain().entrySet()) {
                rows.recordAccess(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * Walks {@code blob_lru} from the oldest: deletes while over {@code keepBytes} and older than
     * {@code cutoff}. A prune names its namespace and counts that namespace's bytes; eviction
     * ({@code namespace} null) keeps the whole server under --max-size, whichever team's blobs are oldest.
     */
    private PruneResult removeOldest(Namespace namespace, long keepBytes, long cutoffMillis) throws StoreException {
        boolean eviction = namespace == null;
        AtomicLong bytes = eviction ? counts.bytes() : counts.in(namespace).bytes;
        AtomicLong blobs = eviction ? counts.blobs() : counts.in(namespace).blobs;
        byte[] prefix = eviction ? null : namespace.prefix();
        synchronized (pruneLock) {
            flushAccessTimes();
            long deleted = 0;
            long freed = 0;
            try (RocksCursor it = db.cursor(Family.LRU, "walking the least-recently-used index", "")) {
                for (it.seekToFirst(); it.isValid() && !db.isClosed(); it.next()) {
                    byte[] key = it.key();
                    long accessed = Keys.lruMillis(key);
                    if (accessed >= cutoffMillis || (keepBytes > 0 && bytes.get() <= keepBytes)) {
                        break;
                    }
                    if (prefix != null && !Keys.inNamespace(key, Long.BYTES, prefix)) {
                        continue;
                    }
                    long size = rows.delete(Keys.lruBlob(key), accessed);
                    if (size >= 0) {
                        deleted++;
                        freed += size;
                    }
                }
            }
            if (eviction) {
                counts.evictedBlobs.addAndGet(deleted);
                counts.evictedBytes.addAndGet(freed);
            }
            return new PruneResult(deleted, freed, blobs.get(), bytes.get());
        }
    }

    /** Asks the background thread for a pass now, after a commit took the store over budget. */
    void request() {
        if (evictionQueued.compareAndSet(false, true)) {
            try {
                maintenance.execute(this::maintain);
            } catch (RejectedExecutionException e) {
                evictionQueued.set(false); // closing
            }
        }
    }

    void start() {
        maintenance.scheduleWithFixedDelay(this::maintain, 1, 1, TimeUnit.SECONDS);
    }

    /** Background pass: pending access times, then eviction when over budget. */
    private void maintain() {
        evictionQueued.set(false);
        try {
            flushAccessTimes();
            evictTeamsOverQuota();
            evictIfOverBudget();
        } catch (StoreException | RuntimeException e) {
            // Keep the schedule alive: the next pass retries.
            log.error("cache-server: background maintenance failed", e);
        }
    }

    /** Stops the background thread, then writes the last access times. */
    void stop() {
        maintenance.shutdownNow();
        try {
            // An eviction pass in flight must end before the handles it uses are freed.
            if (!maintenance.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("cache-server: background maintenance did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            flushAccessTimes();
        } catch (StoreException | RuntimeException e) {
            log.warn("cache-server: could not record the last access times on close", e);
        }
    }
}
