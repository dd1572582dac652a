package dev.stagefarm.coordinator.schedule;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the queue shows an autoscaler and a person. The names are a contract (the KEDA
 * ScaledObject in deploy/k8s reads them): {@code stagefarm_jobs_queued{team}},
 * {@code stagefarm_jobs_running{team}}, {@code stagefarm_worker_slots{state}} (free, busy,
 * draining) and the {@code stagefarm_job_wait_seconds} histogram, queued to started.
 */
public final class SchedulerMetrics {

    private static final Logger log = LoggerFactory.getLogger(SchedulerMetrics.class);

    private final MeterRegistry registry;
    private final Set<String> teams = ConcurrentHashMap.newKeySet();
    private JobDispatcher dispatcher;
    final Counter jobsRedispatched;
    final Counter jobsShared;
    final Timer jobWait;
    private final Counter refusedEvents;
    private final Counter refusedResults;

    public SchedulerMetrics(MeterRegistry registry) {
        this.registry = registry;
        jobsRedispatched = Counter.builder("stagefarm.jobs.redispatched")
                .description("jobs sent again because their worker went away")
                .register(registry);
        jobsShared = Counter.builder("stagefarm.jobs.shared")
                .description("jobs that joined identical work already queued or running instead of running again")
                .register(registry);
        refusedEvents = refused("event");
        refusedResults = refused("result");
        jobWait = Timer.builder("stagefarm.job.wait")
                .description("time from a job's queueing to its start on a worker")
                .publishPercentileHistogram()
                .register(registry);
    }

    void refusedEvent(String worker, String jobId) {
        refused(refusedEvents, worker, "an event", jobId);
    }

    void refusedResult(String worker, String jobId) {
        refused(refusedResults, worker, "a result", jobId);
    }

    private static void refused(Counter counter, String worker, String what, String jobId) {
        counter.increment();
        log.warn(
                "worker {} sent {} for job {}, which it was not given or has already answered: ignored",
                worker,
                what,
                jobId);
    }

    private Counter refused(String kind) {
        return Counter.builder("stagefarm.worker.reports.refused")
                .description("events and results a worker sent for a job it was not given (or no longer runs), ignored")
                .tag("kind", kind)
                .register(registry);
    }

    /** Gauges read the queue through its dispatcher's lock, when they are scraped. */
    void watch(JobDispatcher dispatcher) {
        this.dispatcher = dispatcher;
        for (String state : new String[] {"free", "busy", "draining"}) {
            Gauge.builder("stagefarm.worker.slots", () -> read(s -> s.slots(state)))
                    .description("worker slots by state: free, busy (running a job), draining (taking no new job)")
                    .tag("state", state)
                    .register(registry);
        }
    }

    /** A team's gauges, from its first job on (a team seen once stays listed, at zero when idle). */
    void team(String team) {
        if (teams.add(team)) {
            Gauge.builder("stagefarm.jobs.queued", () -> dispatcher == null ? 0 : dispatcher.waiting(team))
                    .description("jobs waiting in the coordinator's queue for a free slot (with those held for"
                            + " reconnecting workers after a restart)")
                    .tag("team", team)
                    .register(registry);
            Gauge.builder("stagefarm.jobs.running", () -> read(s -> s.running(team)))
                    .description("jobs running on workers")
                    .tag("team", team)
                    .register(registry);
        }
    }

    private int read(ToIntFunction<Scheduler> what) {
        return dispatcher == null ? 0 : dispatcher.read(what);
    }
}
