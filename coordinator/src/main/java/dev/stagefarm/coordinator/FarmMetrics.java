package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.schedule.WorkerPool;
import dev.stagefarm.coordinator.schedule.WorkerSession;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** What the coordinator counts: builds, stages (run or answered by the cache), jobs, workers. */
final class FarmMetrics {

    private final MeterRegistry registry;
    final Counter buildsSucceeded;
    final Counter buildsFailed;
    final Counter stagesCached;
    final Counter stagesDispatched;
    final Timer stageDuration;

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
        Gauge.builder(
                        "stagefarm.jobs.running",
                        pool,
                        p -> p.alive().stream().mapToInt(WorkerSession::load).sum())
                .register(registry);
    }

    MeterRegistry registry() {
        return registry;
    }
}
