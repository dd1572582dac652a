package dev.stagefarm.coordinator.schedule;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** What the queue counts: jobs sent again after their worker died, and how long jobs wait for a slot. */
public final class SchedulerMetrics {

    private final MeterRegistry registry;
    final Counter jobsRedispatched;
    final Timer jobWait;
    final Counter jobsShared;

    public SchedulerMetrics(MeterRegistry registry) {
        this.registry = registry;
        jobsRedispatched = Counter.builder("stagefarm.jobs.redispatched")
                .description("jobs sent again because their worker went away")
                .register(registry);
        jobsShared = Counter.builder("stagefarm.jobs.shared")
                .description("jobs that joined identical work already queued or running instead of running again")
                .register(registry);
        jobWait = Timer.builder("stagefarm.job.wait")
                .description("time from a job's queueing to its start on a worker")
                .publishPercentileHistogram()
                .register(registry);
    }

    /** Gauges read the queue through its dispatcher's lock. */
    void watch(Scheduler scheduler, JobDispatcher dispatcher) {}

    MeterRegistry registry() {
        return registry;
    }
}
