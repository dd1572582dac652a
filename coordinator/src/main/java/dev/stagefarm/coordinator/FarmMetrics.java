package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.schedule.WorkerPool;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** What the coordinator counts: builds, stages (run or answered by the cache), jobs, workers. */
final class FarmMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> inProgress = new ConcurrentHashMap<>();
    final Counter buildsSucceeded;
    final Counter buildsFailed;
    final Counter stagesCached;
    final Counter stagesDispatched;
    final Timer stageDuration;
    /** Output and events the coordinator holds for build clients that read slower than builds print. */
    final AtomicLong clientPendingBytes = new AtomicLong();

    FarmMetrics(MeterRegistry registry, WorkerPool pool) {
        this.registry = registry;
        buildsSucceeded =
                Counter.builder("stagefarm.builds").tag("result", "ok").register(registry);
        buildsFailed =
                Counter.builder("stagefarm.builds").tag("result", "failed").register(registry);
        stagesCached =
                Counter.builder("stagefarm.stages").tag("outcome", "cached").register(registry);
        stagesDispatched =
                Counter.builder("stagefarm.stages").tag("outcome", "dispatched").register(registry);
        stageDuration = Timer.builder("stagefarm.stage.duration")
                .publishPercentileHistogram()
                .register(registry);
        Gauge.builder("stagefarm.workers.connected", pool, p -> p.alive().size())
                .register(registry);
        Gauge.builder("stagefarm.client.pending.bytes", clientPendingBytes, AtomicLong::get)
                .description("build events waiting for their clients to read them (at most 8 MiB of output each)")
                .register(registry);
    }

    /**
     * Builds of {@code team} running now, as {@code stagefarm_builds_in_progress{team}}: add one
     * when a build starts and take it away when it ends.
     */
    AtomicInteger buildsInProgress(String team) {
        return inProgress.computeIfAbsent(team, t -> {
            AtomicInteger n = new AtomicInteger();
            Gauge.builder("stagefarm.builds.in.progress", n, AtomicInteger::get)
                    .description("builds submitted and not yet ended")
                    .tag("team", t)
                    .register(registry);
            return n;
        });
    }

    MeterRegistry registry() {
        return registry;
    }
}
