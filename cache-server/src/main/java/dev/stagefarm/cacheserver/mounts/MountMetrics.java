package dev.stagefarm.cacheserver.mounts;

import dev.stagefarm.proto.cache.MountDelta;
import dev.stagefarm.proto.cache.MountEntry;
import dev.stagefarm.proto.cache.MountSharing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Meters of shared cache mounts, in the registry the server is given. */
public final class MountMetrics {

    private final MeterRegistry registry;
    private final Counter publishes;
    private final Counter upserts;
    private final Counter deletes;
    private final Counter publishedBytes;
    private final List<Meter> gauges = new ArrayList<>();

    public MountMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.publishes = Counter.builder("stagefarm.cache.mount.publishes")
                .description("Cache-mount deltas merged onto a head")
                .register(registry);
        this.upserts = files("upsert");
        this.deletes = files("delete");
        this.publishedBytes = Counter.builder("stagefarm.cache.mount.published.bytes")
                .description("Sizes of the files cache-mount deltas added or changed")
                .baseUnit("bytes")
                .register(registry);
    }

    private Counter files(String change) {
        return Counter.builder("stagefarm.cache.mount.files")
                .description("Paths cache-mount deltas added or changed (upsert) and removed (delete)")
                .tag("change", change)
                .register(registry);
    }

    void published(MountDelta delta) {
        publishes.increment();
        upserts.increment(delta.getUpsertsCount());
        deletes.increment(delta.getDeletesCount());
        publishedBytes.increment(delta.getUpsertsList().stream()
                .filter(e -> e.getType() == MountEntry.Type.FILE)
                .mapToLong(MountEntry::getSize)
                .sum());
    }

    /** How long a use waited for its grant (LOCKED: the lease); SHARED and PRIVATE never wait. */
    void waited(MountSharing sharing, Duration wait) {
        Timer.builder("stagefarm.cache.mount.lease.wait")
                .description("Time from asking to use a cache mount until the use was granted")
                .tag("sharing", sharing.name().replace("MOUNT_SHARING_", "").toLowerCase(Locale.ROOT))
                .publishPercentileHistogram()
                .register(registry)
                .record(wait);
    }

    public void watch(MountUses uses) {
        gauges.add(Gauge.builder("stagefarm.cache.mount.uses", uses, MountUses::granted)
                .description("Steps using a cache mount now (granted, not PRIVATE copies)")
                .register(registry));
        gauges.add(Gauge.builder("stagefarm.cache.mount.lease.waiting", uses, MountUses::waiting)
                .description("LOCKED steps waiting for a cache mount's lease")
                .register(registry));
    }

    public void unwatch() {
        gauges.forEach(registry::remove);
        gauges.clear();
    }
}
