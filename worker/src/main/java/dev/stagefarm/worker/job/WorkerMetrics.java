package dev.stagefarm.worker.job;

import dev.stagefarm.worker.cachemount.MountSyncMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** What a worker counts: jobs, steps it ran or replayed from the cache, bytes it had to fetch. */
public final class WorkerMetrics {

    final Counter jobsOk;
    final Counter jobsFailed;
    final Counter stepsRun;
    final Counter stepsCached;
    final Counter fetchedBytes;
    final Timer stepDuration;
    final MountSyncMetrics mounts;

    public WorkerMetrics(MeterRegistry registry) {
        jobsOk = Counter.builder("stagefarm.worker.jobs").tag("result", "ok").register(registry);
        jobsFailed =
                Counter.builder("stagefarm.worker.jobs").tag("result", "failed").register(registry);
        stepsRun =
                Counter.builder("stagefarm.worker.steps").tag("outcome", "run").register(registry);
        stepsCached = Counter.builder("stagefarm.worker.steps")
                .tag("outcome", "cached")
                .register(registry);
        fetchedBytes = Counter.builder("stagefarm.worker.fetched.bytes")
                .baseUnit("bytes")
                .description("bytes fetched from the cache-server for jobs (registry pulls not counted)")
                .register(registry);
        stepDuration = Timer.builder("stagefarm.worker.step.duration")
                .publishPercentileHistogram()
                .register(registry);
        mounts = new MountSyncMetrics(registry);
    }
}
