package dev.stagefarm.worker.cachemount;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/** What a worker's shared cache mounts cost: bytes in and out, publishes, waits for a lease. */
public final class MountSyncMetrics {

    final Counter fetchedBytes;
    final Counter fetchedFiles;
    final Counter uploadedBytes;
    final Counter uploadedFiles;
    final Counter published;
    final Counter unchanged;
    final Counter failed;
    private final Timer waits;

    public MountSyncMetrics(MeterRegistry registry) {
        fetchedBytes = Counter.builder("stagefarm.worker.cache.mount.fetched.bytes")
                .baseUnit("bytes")
                .description("Cache-mount file bytes fetched to bring a local copy up to the head")
                .register(registry);
        fetchedFiles = Counter.builder("stagefarm.worker.cache.mount.fetched.files")
                .description("Cache-mount files fetched")
                .register(registry);
        uploadedBytes = Counter.builder("stagefarm.worker.cache.mount.uploaded.bytes")
                .baseUnit("bytes")
                .description("Cache-mount file bytes uploaded (only content the cache lacked)")
                .register(registry);
        uploadedFiles = Counter.builder("stagefarm.worker.cache.mount.uploaded.files")
                .description("Cache-mount files uploaded")
                .register(registry);
        published = publishes(registry, "published");
        unchanged = publishes(registry, "unchanged");
        failed = publishes(registry, "failed");
        waits = Timer.builder("stagefarm.worker.cache.mount.lease.wait")
                .description("Time a step waited for its cache mount (LOCKED: the farm-wide lease)")
                .publishPercentileHistogram()
                .register(registry);
    }

    private static Counter publishes(MeterRegistry registry, String result) {
        return Counter.builder("stagefarm.worker.cache.mount.publishes")
                .description("Ends of steps that own a cache mount: changes published, none to publish, or failed")
                .tag("result", result)
                .register(registry);
    }

    void waited(Duration d) {
        waits.record(d);
    }
}
