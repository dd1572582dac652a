package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.farm.Holding;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.RunningJob;
import dev.stagefarm.proto.farm.WorkerHoldings;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Scheduler} at work: it takes the jobs of builds, sends each to a worker's free
 * slot when the queue's order says so, and follows it to its result. A job whose worker dies
 * goes back to the queue, so a lost worker costs time, never a build. Every change of state
 * happens under one lock; sending a job to a worker's stream does not block.
 */
public final class JobDispatcher {

    private static final Logger log = LoggerFactory.getLogger(JobDispatcher.class);

    /** What a build's user reads while its jobs queue on a farm without any worker. */
    public static final String NO_WORKERS = "waiting for a worker: the farm has none right now";

    /**
     * How long a job waits for any worker to be connected before the build fails; zero (or
     * less) waits for as long as the build lasts: a farm scaled to zero gets its first worker
     * when the autoscaler sees the queue, which takes minutes, not seconds.
     */
    private final Duration workerWait;

    private final InstantSource clock;
    private final Scheduler scheduler;
    private final SchedulerMetrics metrics;
    private final Map<String, WorkerSession> sessions = new HashMap<>();
    private final Map<String, Waiting> waiting = new HashMap<>();
    /** The job each run is sent as, by its wire id. */
    private final Map<String, Job> wire = new HashMap<>();
    /** Steps of results that went out before the step was stored: lookups of them wait. */
    private final PendingStores stores = new PendingStores();
    /** Builds told {@link #NO_WORKERS} since the farm last had a worker: each hears it once. */
    private final Set<String> toldNoWorkers = new HashSet<>();
    /** False for a farm whose workers start with it (the CLI's embedded one): none is missing. */
    private boolean sayNoWorkers = true;

    private final DispatchTimers timers = new DispatchTimers();
    private final WorkerPool pool;
    private final Reconnects reconnects;
    private Instant noWorkersSince;
    /** When a timer will place again for a job waiting for a better-placed worker; null: none set. */
    private Instant localityTimer;

    private boolean closed;

    public JobDispatcher(WorkerPool pool, Duration workerWait, SchedulerMetrics metrics) {
        this(pool, workerWait, metrics, new Scheduler(InstantSource.system()));
    }

    /** @param scheduler on the system clock, with the farm's team weights */
    public JobDispatcher(WorkerPool pool, Duration workerWait, SchedulerMetrics metrics, Scheduler scheduler) {
        this(pool, workerWait, metrics, InstantSource.system(), scheduler);
    }

    public JobDispatcher(
            WorkerPool pool, Duration workerWait, SchedulerMetrics metrics, InstantSource clock, Scheduler scheduler) {
        this.pool = pool;
        this.workerWait = workerWait;
        this.metrics = metrics;
        this.clock = clock;
        this.scheduler = scheduler;
        this.noWorkersSince = clock.instant();
        this.reconnects = new Reconnects(clock);
        metrics.watch(this);
        pool.onJoin(this::onWorkerJoined);
    }

    /** The workers this dispatcher places on. */
    public WorkerPool pool() {
        return pool;
    }

    /** A job waiting for its result: who hears about it. */
    private record Waiting(
            Job job,
            Instant queuedAt,
            Consumer<JobEvent> events,
            CompletableFuture<Dispatched> result,
            String adoptionKey) {}

    /** The worker that ran a job to its end, and what it reported. */
    public record Dispatched(String worker, JobResult result) {}

    /**
     * Queues a job of its own (never merged with another), for callers that know nothing of
     * the build around it.
     *
     * @param locality bytes of the job's inputs a worker (by name) already holds
     */
    public CompletableFuture<Dispatched> submit(Job job, ToLongFunction<String> locality, Consumer<JobEvent> events) {
        return submit(job, JobTicket.alone(job, clock.instant(), locality), events);
    }

    /** Queues a job; it runs when the queue's order gives it a free slot. */
    public CompletableFuture<Dispatched> submit(Job job, JobTicket ticket, Consumer<JobEvent> events) {
        return submit(job, ticket, false, events);
    }

    /**
     * Queues a job, or holds it for a while when its build is a resubmission whose work may still
     * run on a worker that has not reconnected yet ({@link Reconnects}).
     *
     * @param resubmitted the job's build was resubmitted after its coordinator went away
     */
    public CompletableFuture<Dispatched> submit(
            Job job, JobTicket ticket, boolean resubmitted, Consumer<JobEvent> events) {
        CompletableFuture<Dispatched> result = new CompletableFuture<>();
        synchronized (this) {
            if (closed) {
                result.complete(failed(job.getJobId(), "", "coordinator shutting down"));
                return result;
            }
            String adoptionKey = WorkKeys.adoption(ticket.team(), job);
            Waiting w = new Waiting(job, clock.instant(), events, result, adoptionKey);
            var kept = reconnects.unclaimed(adoptionKey);
            if (kept.isPresent()) {
                log.info("job {}: a run of its work went on through a coordinator restart: its result", job.getJobId());
                result.complete(new Dispatched(
                        kept.get().worker(),
                        kept.get().result().toBuilder().setJobId(job.getJobId()).build()));
                return result;
            }
            waiting.put(job.getJobId(), w);
            notifyQueue(w, "", Duration.ZERO, scheduler.workerCount() == 0 ? tellNoWorkers(w) : "");
            metrics.team(ticket.team());
            if (reconnects.holds(resubmitted) && !scheduler.hasWork(adoptionKey)) {
                log.info(
                        "job {} (stage {}) of a resubmitted build: held until {} for workers that may run it still",
                        job.getJobId(),
                        job.getStageName(),
                        reconnects.windowEnds());
                reconnects.hold(new Reconnects.Held(job, ticket, adoptionKey));
                releaseHeldLater();
                return result;
            }
            enqueue(job, ticket, adoptionKey);
            pump();
        }
        return result;
    }

    /** Hands a job to the scheduler: a run of its own, or one identical work already has. */
    private void enqueue(Job job, JobTicket ticket, String adoptionKey) {
        if (scheduler.hasWork(adoptionKey)) {
            ticket = ticket.withWorkKey(adoptionKey); // a run a reconnected worker reported: the job waits for it
        }
        if (scheduler.submit(ticket)) {
            wire.put(job.getJobId(), job.toBuilder().setWorkKey(adoptionKey).build());
            return;
        }
        metrics.jobsShared.increment();
        String wireId = scheduler.wireIdOf(job.getJobId()).orElseThrow();
        // an adopted run has no job of its own: this one is sent should the run be lost
        wire.putIfAbsent(
                wireId, job.toBuilder().setJobId(wireId).setWorkKey(adoptionKey).build());
        log.info(
                "job {} (stage {}): identical work is already queued or running ({}), sharing its result",
                job.getJobId(),
                job.getStageName(),
                wireId);
    }

    /**
     * A job is no longer wanted: it leaves the queue, or its run is stopped on its worker unless
     * an identical job of another build still waits for it. Its future ends as failed.
     */
    public void cancel(String jobId, String why) {
        cancel(List.of(jobId), why);
    }

    /**
     * Cancels jobs together: none of them takes a slot that another frees meanwhile, so queued
     * ones never start just to be stopped.
     */
    public void cancel(List<String> jobIds, String why) {
        synchronized (this) {
            for (String jobId : jobIds) {
                Waiting w = waiting.remove(jobId);
                if (w == null) {
                    continue;
                }
                if (reconnects.drop(jobId)) {
                    w.result.complete(failed(jobId, "", why));
                    continue;
                }
                if (scheduler.withdraw(jobId) instanceof Scheduler.Withdrawal.Stop stop) {
                    WorkerSession session = sessions.get(stop.workerId());
                    wire.remove(stop.wireId());
                    if (session != null) {
                        log.info("job {}: stopping it on worker {} ({})", stop.wireId(), session.name(), why);
                        try {
                            session.cancel(stop.wireId());
                        } catch (RuntimeException gone) {
                            // the worker is going away; its stream's end frees the slot
                        }
                    }
                }
                w.result.complete(failed(jobId, "", why));
            }
            pump();
        }
    }

    /**
     * A worker's progress report. Only the worker running the job is heard: any other (a stale
     * session, a compromised worker) could otherwise write into another build's output.
     */
    public void onEvent(WorkerSession from, JobEvent event) {
        if (!from.runs(event.getJobId())) {
            metrics.refusedEvent(from.name(), event.getJobId());
            return;
        }
        List<Consumer<JobEvent>> to = new ArrayList<>();
        synchronized (this) {
            for (String id : scheduler.jobsOf(event.getJobId())) {
                Waiting w = waiting.get(id);
                if (w != null) {
                    to.add(w.events);
                }
            }
        }
        to.forEach(c -> c.accept(event));
    }

    /**
     * A worker's result ends a job only when that worker was given it: a result for another
     * worker's job (or a job never sent anywhere) never completes it, whatever it claims.
     */
    public void onResult(WorkerSession from, JobResult result) {
        if (!from.runs(result.getJobId())) {
            metrics.refusedResult(from.name(), result.getJobId());
            return;
        }
        from.finished(result.getJobId());
        synchronized (this) {
            var finished = scheduler.finish(result.getJobId(), from.id());
            if (finished.isPresent()) {
                reconnects.ended(result.getJobId(), !finished.get().jobs().isEmpty(), from.name(), result);
                Job job = wire.remove(result.getJobId());
                if (result.getLayersPending() && job != null && job.getStepsCount() > 0) {
                    String lastStep = job.getSteps(job.getStepsCount() - 1).getKey();
                    stores.storing(result.getJobId(), from.name(), job.getTeam(), lastStep);
                }
                for (String id : finished.get().jobs()) {
                    Waiting w = waiting.remove(id);
                    if (w != null) {
                        w.result.complete(new Dispatched(
                                from.name(), result.toBuilder().setJobId(id).build()));
                    }
                }
            }
            // else a late answer from a worker the job was taken away from, or of a cancelled run
            pump();
        }
    }

    private void onWorkerJoined(WorkerSession session) {
        synchronized (this) {
            for (WorkerSession other : sessions.values()) {
                if (other.name().equals(session.name())) {
                    scheduler.drain(other.id()); // a stale session of a reconnected worker: nothing new
                }
            }
            sessions.put(session.id(), session);
            scheduler.addWorker(session.id(), session.name(), session.slots(), session.entitlements());
            session.reported().forEach(r -> adopt(session, r));
            noWorkersSince = null;
            toldNoWorkers.clear();
            pump();
        }
    }

    /**
     * A run the worker kept going while it had no coordinator (or lost its stream): it keeps its
     * slot and the jobs that want its work wait for it, instead of running it a second time.
     */
    private void adopt(WorkerSession session, RunningJob run) {
        if (run.getWorkKey().isEmpty()) {
            return; // a worker of an older release: nothing to match it by
        }
        String wireId = run.getJobId();
        // queued jobs of a resubmission with the same work become that run
        for (Waiting w : List.copyOf(waiting.values())) {
            if (!wire.containsKey(wireId)
                    && w.adoptionKey.equals(run.getWorkKey())
                    && scheduler.isQueued(w.job.getJobId())) {
                String before = scheduler.wireIdOf(w.job.getJobId()).orElseThrow();
                if (scheduler.adoptQueued(w.job.getJobId(), session.id(), wireId)) {
                    Job job = wire.remove(before);
                    wire.put(
                            wireId,
                            (job == null ? w.job : job)
                                    .toBuilder().setJobId(wireId).build());
                    session.adopted(wireId);
                    reconnects.adopted(wireId, run.getWorkKey());
                    log.info("worker {} runs job {} still: adopted for queued job {}", session.name(), wireId, before);
                    return;
                }
            }
        }
        Scheduler.Adoption adoption = scheduler.adopt(session.id(), wireId, run.getTeam(), run.getWorkKey());
        if (adoption.duplicate()) {
            log.info(
                    "worker {} runs job {} still, but identical work runs elsewhere: stopping it",
                    session.name(),
                    wireId);
            session.cancel(wireId);
            return;
        }
        if (!adoption.replaced().isEmpty()) {
            Job job = wire.remove(adoption.replaced());
            if (job != null) {
                wire.put(wireId, job.toBuilder().setJobId(wireId).build());
            }
        }
        session.adopted(wireId);
        reconnects.adopted(wireId, run.getWorkKey());
        log.info(
                "worker {} runs job {} (stage {}) still: adopted{}",
                session.name(),
                wireId,
                run.getStageName(),
                run.getFinished() ? ", its result follows" : "");
        for (Reconnects.Held h : reconnects.releaseMatching(run.getWorkKey())) {
            enqueue(h.job(), h.ticket(), h.adoptionKey());
        }
    }

    /** A worker drains: it gets no new job and finishes those it runs. */
    public void onWorkerDraining(WorkerSession session) {
        synchronized (this) {
            session.markDraining();
            scheduler.drain(session.id());
            log.info("worker {} drains: no new jobs for it", session.name());
        }
    }

    /** A worker's stream ended: its jobs go back to the queue, in their old place. */
    public void onWorkerLost(WorkerSession lost) {
        synchronized (this) {
            if (sessions.remove(lost.id()) == null) {
                return;
            }
            stores.workerGone(lost.name());
            Set<String> ran = scheduler.runningOn(lost.id());
            List<Scheduler.Exhausted> exhausted = scheduler.removeWorker(lost.id());
            for (Scheduler.Exhausted e : exhausted) {
                ran.remove(e.wireId());
                wire.remove(e.wireId());
                for (String id : e.jobs()) {
                    Waiting w = waiting.remove(id);
                    if (w != null) {
                        w.result.complete(failed(
                                id,
                                lost.name(),
                                "stage " + w.job.getStageName() + " was lost with its worker "
                                        + e.lostOn().size() + " times (on " + String.join(", ", e.lostOn())
                                        + "): giving up"));
                    }
                }
            }
            for (String id : ran) {
                if (wire.containsKey(id)) {
                    log.warn(
                            "worker {} died running job {} (stage {}): queueing it again",
                            lost.name(),
                            id,
                            wire.get(id).getStageName());
                    metrics.jobsRedispatched.increment();
                }
            }
            if (scheduler.workerCount() == 0) {
                noWorkersSince = clock.instant();
                checkWorkersLater();
                // the builds still waiting learn why nothing moves (one queued job of each)
                for (Waiting w : sayNoWorkers ? List.copyOf(waiting.values()) : List.<Waiting>of()) {
                    if (scheduler.isQueued(w.job.getJobId()) && !toldNoWorkers.contains(w.job.getBuildId())) {
                        notifyQueue(w, "", Duration.ZERO, tellNoWorkers(w));
                    }
                }
            }
            pump();
        }
    }

    /**
     * A worker's report of what it holds, for the locality index: a full set replaces what it
     * reported before. Entries of a session the dispatcher does not know (gone) are dropped.
     */
    public void onHoldings(WorkerSession from, WorkerHoldings holdings) {
        synchronized (this) {
            if (!sessions.containsKey(from.id())) {
                return;
            }
            LocalityIndex index = scheduler.holdings();
            if (holdings.getFull()) {
                index.forgetWorker(from.id());
            }
            for (Holding h : holdings.getEvictedList()) {
                index.evicted(from.id(), h.getTeam(), h.getKey());
            }
            for (Holding h : holdings.getAddedList()) {
                index.held(from.id(), h.getTeam(), h.getKey(), h.getSize());
            }
        }
    }

    /** Steps being stored after their job reported (the worker's LayersStored ends each). */
    public PendingStores pendingStores() {
        return stores;
    }

    /** Reads the queue's state under its lock (for metrics and listings). */
    public synchronized int read(ToIntFunction<Scheduler> what) {
        return what.applyAsInt(scheduler);
    }

    /** A team's jobs waiting: queued, and held for workers that may still run them (a restart). */
    public synchronized int waiting(String team) {
        return scheduler.queued(team) + reconnects.heldFor(team);
    }

    /** Ends every job: the coordinator is closing. */
    public void close() {
        synchronized (this) {
            closed = true;
            for (var e : waiting.entrySet()) {
                e.getValue().result.complete(failed(e.getKey(), "", "coordinator shutting down"));
            }
            waiting.clear();
            reconnects.releaseIfOver(); // (held ones are among the waiting just ended)
        }
        timers.close();
    }

    /** Sends every job the scheduler can place now. */
    private void pump() {
        if (closed) {
            return;
        }
        for (Scheduler.Placement p : scheduler.place()) {
            Job job = wire.get(p.wireId());
            WorkerSession session = sessions.get(p.workerId());
            metrics.jobWait.record(p.waited());
            for (String id : p.jobs()) {
                Waiting w = waiting.get(id);
                if (w != null) {
                    notifyQueue(w, session.name(), p.waited(), "");
                }
            }
            log.info("job {} (stage {}) -> {}", p.wireId(), job.getStageName(), session.name());
            try {
                session.send(job);
            } catch (RuntimeException e) {
                // the stream broke: its end (onWorkerLost) puts the job back in the queue
                log.warn("sending job {} to {} failed: {}", p.wireId(), session.name(), e.toString());
            }
        }
        if (noWorkersSince != null && scheduler.workerCount() == 0 && !waiting.isEmpty()) {
            checkWorkersLater();
        }
        for (Scheduler.LocalityWait lw : scheduler.localityWaitsBegun()) {
            for (String id : lw.jobs()) {
                Waiting w = waiting.get(id);
                if (w != null) {
                    notifyQueue(w, "", Duration.ZERO, QueueNotes.localityWait(w.job, lw));
                }
            }
        }
        scheduler.nextLocalityDeadline().ifPresent(this::placeAgainAt);
        if (waiting.isEmpty()) {
            toldNoWorkers.clear();
        }
    }

    /** The note for a job queued while the farm has no worker: the line once per build, then none. */
    private String tellNoWorkers(Waiting w) {
        return sayNoWorkers && toldNoWorkers.add(w.job.getBuildId()) ? NO_WORKERS : "";
    }

    /**
     * Whether builds hear {@link #NO_WORKERS}: not on a farm whose own workers are still
     * starting, where the line would only alarm.
     */
    public synchronized void sayWhenNoWorkers(boolean say) {
        sayNoWorkers = say;
    }

    /** Whether a job waits for a first worker as long as its build lasts. */
    private boolean waitsForever() {
        return workerWait.isZero() || workerWait.isNegative();
    }

    /**
     * Tells a job's build that it queued or left the queue for a worker. Called under the lock, so
     * the two arrive in order; the build's listener only hands the event to its stream.
     */
    private static void notifyQueue(Waiting w, String worker, Duration waited, String note) {
        w.events.accept(QueueNotes.queued(w.job, worker, waited, note));
    }

    /** Places again when a job stops waiting for a better-placed worker (one timer at a time, the earliest). */
    private void placeAgainAt(Instant deadline) {
        if (localityTimer != null && !localityTimer.isAfter(deadline)) {
            return;
        }
        localityTimer = deadline;
        timers.after(Duration.between(clock.instant(), deadline), () -> {
            synchronized (this) {
                if (deadline.equals(localityTimer)) {
                    localityTimer = null;
                }
                pump();
            }
        });
    }

    private void releaseHeldLater() {
        timers.after(Duration.between(clock.instant(), reconnects.windowEnds()), this::releaseHeld);
    }

    /** Queues the jobs held for reconnecting workers once the window is over. */
    public void releaseHeld() {
        synchronized (this) {
            if (closed) {
                return;
            }
            List<Reconnects.Held> over = reconnects.releaseIfOver();
            for (Reconnects.Held h : over) {
                if (waiting.containsKey(h.job().getJobId())) {
                    enqueue(h.job(), h.ticket(), h.adoptionKey());
                }
            }
            if (!over.isEmpty()) {
                log.info("reconnection window over: {} held jobs queued", over.size());
                pump();
            }
        }
    }

    private void checkWorkersLater() {
        if (!closed && !waitsForever()) {
            timers.after(workerWait, this::failWithoutWorkers);
        }
    }

    /** Jobs that waited {@code workerWait} while no worker at all was connected fail, saying so. */
    private void failWithoutWorkers() {
        synchronized (this) {
            if (closed || noWorkersSince == null) {
                return;
            }
            Instant now = clock.instant();
            for (Waiting w : List.copyOf(waiting.values())) {
                String id = w.job.getJobId();
                Instant since = w.queuedAt.isAfter(noWorkersSince) ? w.queuedAt : noWorkersSince;
                if (!scheduler.isQueued(id) || now.isBefore(since.plus(workerWait))) {
                    continue;
                }
                List<String> lostOn = scheduler.lostOn(id);
                for (String member : scheduler.dequeue(id)) {
                    wire.remove(member);
                    Waiting m = waiting.remove(member);
                    if (m != null) {
                        m.result.complete(
                                failed(member, "", QueueNotes.noWorker(workerWait, w.job.getStageName(), lostOn)));
                    }
                }
            }
        }
    }

    private static Dispatched failed(String jobId, String worker, String message) {
        return new Dispatched(worker, QueueNotes.failure(jobId, message));
    }
}
