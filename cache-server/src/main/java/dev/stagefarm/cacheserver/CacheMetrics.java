package dev.stagefarm.cacheserver;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/** The cache-server's meters, registered in the registry it is given (never a global one). */
final class CacheMetrics {

    private final MeterRegistry registry;
    private final Counter blobHits;
    private final Counter blobMisses;
    private final Counter actionHits;
    private final Counter actionMisses;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter corruptBlobs;

    CacheMetrics(MeterRegistry registry) {
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
                .tag("kind", kind).tag("result", result)
                .register(registry);
    }

    private Counter bytes(String direction) {
        return Counter.builder("stagefarm.cache.bytes")
                .description("Blob bytes received (in) and served (out)")
                .baseUnit("bytes")
                .tag("direction", direction)
                .register(registry);
    }

    void blobHits(long n) {
        blobHits.increment(n);
    }

    void blobMisses(long n) {
        blobMisses.increment(n);
    }

    void actionHit() {
        actionHits.increment();
    }

    void actionMiss() {
        actionMisses.increment();
    }

    void bytesIn(long n) {
        bytesIn.increment(n);
    }

    void bytesOut(long n) {
        bytesOut.increment(n);
    }

    void corruptBlob() {
        corruptBlobs.increment();
    }

    void requestTook(String method, String status, Duration took) {
        Timer.builder("stagefarm.cache.requests")
                .description("Latency of cache RPCs, to the last message")
                .tag("method", method).tag("status", status)
                .register(registry)
                .record(took);
    }
}
