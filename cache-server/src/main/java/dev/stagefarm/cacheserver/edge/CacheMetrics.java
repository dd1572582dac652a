package dev.stagefarm.cacheserver.edge;

import dev.stagefarm.cacheserver.store.RocksStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The cache-server's meters, registered in the registry it is given (never a global one). */
public final class CacheMetrics {

    private final MeterRegistry registry;
    private final Counter blobHits;
    private final Counter blobMisses;
    private final Counter actionHits;
    private final Counter actionMisses;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter corruptBlobs;
    private final List<Meter> storeMeters = new ArrayList<>();

    public CacheMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.blobHits = lookups("blob", "hit");
        this.blobMisses = lookups("blob", "miss");
        this.actionHits = lookups("action", "hit");
        this.actionMisses = lookups("action", "miss");
        this.bytesIn = bytes("in");
        this.bytesOut = bytes("out");
        this.corruptBlobs = Counter.builder("stagefarm.cache.corrupt.blobs")
                .description("Stored blobs that failed verification on read and were removed")
                .register(registry);
    }

    private Counter lookups(String kind, String result) {
        return Counter.builder("stagefarm.cache.lookups")
                .description("Blob and action-cache lookups by result")
                .tag("kind", kind)
                .tag("result", result)
                .register(registry);
    }

    private Counter bytes(String direction) {
        return Counter.builder("stagefarm.cache.bytes")
                .description("Blob bytes received (in) and served (out)")
                .baseUnit("bytes")
                .tag("direction", direction)
                .register(registry);
    }

    public void blobHits(long n) {
        blobHits.increment(n);
    }

    public void blobMisses(long n) {
        blobMisses.increment(n);
    }

    public void actionHit() {
        actionHits.increment();
    }

    public void actionMiss() {
        actionMisses.increment();
    }

    public void bytesIn(long n) {
        bytesIn.increment(n);
    }

    public void bytesOut(long n) {
        bytesOut.increment(n);
    }

    public void corruptBlob() {
        corruptBlobs.increment();
    }

    /**
     * Gauges of the store's size and budget, and counters of what eviction removed; they follow
     * this store until {@link #unwatch()} (a restarted server registers its new store's).
     */
    public void watch(RocksStore store) {
        storeMeters.add(Gauge.builder("stagefarm.cache.stored.bytes", store, RocksStore::storedBytes)
                .description("Sum of the sizes of stored blobs (what --max-size limits)")
                .baseUnit("bytes")
                .register(registry));
        storeMeters.add(Gauge.builder("stagefarm.cache.stored.blobs", store, RocksStore::blobCount)
                .description("Stored blobs")
                .register(registry));
        storeMeters.add(Gauge.builder("stagefarm.cache.max.bytes", store, RocksStore::maxBytes)
                .description("The --max-size budget; 0 = unlimited")
                .baseUnit("bytes")
                .register(registry));
        storeMeters.add(FunctionCounter.builder("stagefarm.cache.evictions", store, RocksStore::evictedBlobs)
                .description("Blobs evicted, least recently used first, to stay under --max-size")
                .register(registry));
        storeMeters.add(FunctionCounter.builder("stagefarm.cache.evicted", store, RocksStore::evictedBytes)
                .description("Bytes of blobs evicted to stay under --max-size")
                .baseUnit("bytes")
                .register(registry));
    }

    public void unwatch() {
        storeMeters.forEach(registry::remove);
        storeMeters.clear();
    }

    /** A data port connection turned away: {@code reason} is timeout, bad_request, unknown_ticket, port_full or address_full. */
    public void dataPortRejected(String reason) {
        Counter.builder("stagefarm.dataport.rejected")
                .description("Data port connections closed before serving a read, by reason")
                .tag("reason", reason)
                .register(registry)
                .increment();
    }

    public void requestTook(String method, String status, Duration took) {
        Timer.builder("stagefarm.cache.requests")
                .description("Latency of cache RPCs, to the last message")
                .tag("method", method)
                .tag("status", status)
                .register(registry)
                .record(took);
    }
}
