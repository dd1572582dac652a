package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.coordinator.FarmMetrics;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends jobs to workers and follows them to their result. A job whose worker dies is sent
 * again to another worker, so a lost worker costs time, never a build.
 */
public final class JobDispatcher {

    private static final Logger log = LoggerFactory.getLogger(JobDispatcher.class);

    /** How long a job waits for any worker to be connected before the build fails. */
    private final Duration workerWait;

    private final WorkerPool pool;
    private final Map<String, InFlight> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService redispatch = Executors.newVirtualThreadPerTaskExecutor();

    private final FarmMetrics metrics;

    public JobDispatcher(WorkerPool pool, Duration workerWait, FarmMetrics metrics) {
        this.pool = pool;
        this.workerWait = workerWait;
        this.metrics = metrics;
    }

    /** A job on its way: where it runs and who hears about it. */
    private static final class InFlight {
        final Job job;
        final ToLongFunction<String> locality;
        final Consumer<JobEvent> events;
        final CompletableFuture<Dispatched> result = new CompletableFuture<>();
        final Set<String> triedWorkers = new HashSet<>();
        volatile String worker;

        InFlight(Job job, ToLongFunction<String> locality, Consumer<JobEvent> events) {
            this.job = job;
            this.locality = locality;
            this.events = events;
        }
    }

    /** The worker that ran a job to its end, and what it reported. */
    public record Dispatched(String worker, JobResult result) {}

    /**
     * Dispatches a job to the best worker now.
     *
     * @param locality bytes of the job's inputs a worker (by name) already holds
     */
    public CompletableFuture<Dispatched> submit(Job job, ToLongFunction<String> locality, Consumer<JobEvent> events) {
        InFlight f = new InFlight(job, locality, events);
        inFlight.put(job.getJobId(), f);
        schedule(f);
        return f.result;
    }

    /** Places the job on the dispatcher's threads; once the coordinator is closing, fails it instead. */
    private void schedule(InFlight f) {
        try {
            redispatch.execute(() -> place(f));
        } catch (RejectedExecutionException closing) {
            fail(f, "coordinator shutting down");
        }
    }

    private void place(InFlight f) {
        try {
            // choosing and sending under the pool's lock: two stages ready at once see each
            // other's load and go to different workers
            synchronized (pool) {
                placeLocked(f);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(f, "coordinator shutting down");
        } catch (RuntimeException e) {
            log.warn("sending job {} failed, trying another worker", f.job.getJobId(), e);
            schedule(f);
        }
    }

    private void placeLocked(InFlight f) throws InterruptedException {
        {
            var worker = pool.choose(f.locality, f.triedWorkers, workerWait);
            if (worker.isEmpty()) {
                fail(
                        f,
                        f.triedWorkers.isEmpty()
                                ? "no worker connected within "
                                        + (workerWait.toMillis() % 1000 == 0
                                                ? workerWait.toSeconds() + " s"
                                                : workerWait.toMillis() + " ms")
                                        + ": start one with "
                                        + "`stagefarm worker --coordinator HOST:PORT ...`"
                                : "every worker that took stage " + f.job.getStageName() + " went away: "
                                        + f.triedWorkers);
                return;
            }
            f.worker = worker.get().name();
            f.triedWorkers.add(f.worker);
            log.info("job {} (stage {}) -> {}", f.job.getJobId(), f.job.getStageName(), f.worker);
            worker.get().send(f.job);
        }
    }

    private void fail(InFlight f, String message) {
        inFlight.remove(f.job.getJobId());
        f.result.complete(new Dispatched(
                f.worker == null ? "" : f.worker,
                JobResult.newBuilder()
                        .setJobId(f.job.getJobId())
                        .setOk(false)
                        .setError(message)
                        .build()));
    }

    public void onEvent(JobEvent event) {
        InFlight f = inFlight.get(event.getJobId());
        if (f != null) {
            f.events.accept(event);
        }
    }

    public void onResult(WorkerSession from, JobResult result) {
        from.finished(result.getJobId());
        InFlight f = inFlight.get(result.getJobId());
        if (f == null || !from.name().equals(f.worker)) {
            return; // a late answer from a worker the job was taken away from
        }
        inFlight.remove(result.getJobId());
        f.result.complete(new Dispatched(from.name(), result));
    }

    /** A worker's stream ended: its jobs go to other workers. */
    public void onWorkerLost(WorkerSession lost) {
        for (InFlight f : inFlight.values()) {
            if (lost.name().equals(f.worker) && lost.runningJobs().contains(f.job.getJobId())) {
                log.warn(
                        "worker {} died running job {} (stage {}): running it elsewhere",
                        lost.name(),
                        f.job.getJobId(),
                        f.job.getStageName());
                f.worker = null;
                metrics.jobsRedispatched.increment();
                schedule(f);
            }
        }
    }

    public void close() {
        redispatch.shutdownNow();
    }
}
