package dev.stagefarm.worker.agent;

import dev.stagefarm.common.version.FarmVersion;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.LayersStored;
import dev.stagefarm.proto.farm.PendingStore;
import dev.stagefarm.proto.farm.RunningJob;
import dev.stagefarm.proto.farm.WorkerDraining;
import dev.stagefarm.proto.farm.WorkerHello;
import dev.stagefarm.proto.farm.WorkerMessage;
import dev.stagefarm.proto.farm.WorkerStatus;
import dev.stagefarm.worker.disk.Holdings;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's one connection to the coordinator: it opens the stream, says hello, and runs the
 * jobs pushed to it. No polling: an idle worker costs the coordinator nothing. When the stream
 * breaks it reconnects with backoff.
 */
public final class WorkerAgent implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerAgent.class);

    /** Runs one job to its result, reporting progress as it goes. */
    public interface JobHandler {
        /**
         * Runs a job and returns its result. A handler may hand the result to {@code early}
         * before it returns, once the job's remaining work is nothing the coordinator waits for
         * (a layer no stage of the build takes, see {@code Job.layers_unneeded}): the result is
         * reported and the slot freed then, and what the handler returns afterwards is not sent.
         */
        JobResult run(Job job, Consumer<JobEvent> events, Consumer<JobResult> early);
    }

    private final String name;
    private final int slots;
    private final Set<String> entitlements;
    private final CoordinatorGrpc.CoordinatorStub coordinator;
    private final JobHandler handler;
    /**
     * One platform thread per job (a job holds a slot, so there are few): a job spends much of
     * its time in native calls (mounts, process spawns) that would pin a virtual thread's carrier,
     * and with a farm's handful of carriers the next job's start then waited for one (measured:
     * up to 70 ms between a job's arrival and its first step, eight jobs arriving at once).
     */
    private final ExecutorService jobs;

    private final Semaphore running;
    /** The thread of each job running now: cancelling a job interrupts it, which kills its container. */
    private final Map<String, Thread> jobThreads = new ConcurrentHashMap<>();
    /** Jobs that reported early and still store what nothing waits for (JobHandler.run's early). */
    private final Set<Thread> tails = ConcurrentHashMap.newKeySet();
    /**
     * The jobs running now, and those that ended while no coordinator listened with their
     * results: a job outlives the session it came on (a coordinator restart), and the next
     * session's hello reports both, so the new coordinator adopts them instead of running them
     * again. Guarded by {@link #reports}, with {@link #current}'s liveness.
     */
    private final Map<String, Job> runningJobs = new ConcurrentHashMap<>();
    /** Jobs that reported early and still store their last step, for a new coordinator's hello. */
    private final Map<String, Job> storing = new ConcurrentHashMap<>();

    private final Map<String, JobResult> unreported = new LinkedHashMap<>();
    private final Object reports = new Object();

    private volatile boolean closed;
    private volatile boolean draining;
    private volatile Thread loop;
    private final List<String> warnings;
    private volatile Session current;
    private volatile Runnable onDrainRequested = () -> {};
    private volatile java.util.function.Supplier<WorkerStatus> status = WorkerStatus::getDefaultInstance;
    private volatile HoldingsReporter holdings;

    public WorkerAgent(String name, int slots, Channel coordinator, JobHandler handler) {
        this(name, slots, Set.of(), coordinator, handler, List.of());
    }

    /**
     * @param entitlements what the worker grants builds (its --allow), told to the coordinator
     * @param warnings what the coordinator should show operators about this worker (e.g. runc CVEs)
     */
    public WorkerAgent(
            String name,
            int slots,
            Set<String> entitlements,
            Channel coordinator,
            JobHandler handler,
            List<String> warnings) {
        this.warnings = List.copyOf(warnings);
        this.name = name;
        this.slots = slots;
        this.jobs = Executors.newThreadPerTaskExecutor(
                Thread.ofPlatform().name("job-" + name + "-", 0).daemon(true).factory());
        this.entitlements = Set.copyOf(entitlements);
        this.coordinator = CoordinatorGrpc.newStub(coordinator);
        this.handler = handler;
        this.running = new Semaphore(slots);
    }

    /** The jobs running on this worker now. */
    public int runningJobs() {
        return jobThreads.size();
    }

    /** The results this worker holds that no coordinator has confirmed yet. */
    public int unconfirmedResults() {
        synchronized (reports) {
            Session s = current;
            return unreported.size() + (s == null ? 0 : s.unconfirmed.size());
        }
    }

    /** What this worker reports of itself (its disk) after its hello and after each job. */
    public void reportStatus(java.util.function.Supplier<WorkerStatus> status) {
        this.status = status;
    }

    /** Reports what this worker's disk holds to each session, for the coordinator's placement. */
    public void reportHoldings(Holdings held) {
        holdings = new HoldingsReporter(held);
    }

    /** What to do when the coordinator asks this worker to drain ({@code stagefarm workers drain}). */
    public void onDrainRequested(Runnable action) {
        onDrainRequested = action;
    }

    /**
     * Drains: tells the coordinator (no new jobs), lets the running jobs finish and report, and
     * ends the session. Jobs still running after {@code timeout} are handed back: the session
     * ends without their results, so the coordinator queues them again, and their containers
     * are killed.
     *
     * @return true when every job finished in time
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        draining = true;
        Session session = current;
        if (session != null) {
            session.send(WorkerMessage.newBuilder()
                    .setDraining(WorkerDraining.getDefaultInstance())
                    .build());
        }
        log.info(
                "worker {}: draining: finishing {} running jobs (at most {} s)",
                name,
                jobThreads.size(),
                timeout.toSeconds());
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean slotsFree = running.tryAcquire(slots, timeout.toMillis(), TimeUnit.MILLISECONDS);
        boolean finished = slotsFree && tailsEnded(deadline);
        closed = true; // no reconnect once the session ends
        if (session != null) {
            session.complete();
        }
        if (slotsFree) {
            running.release(slots);
        }
        if (finished) {
            log.info("worker {}: drained", name);
        } else {
            log.warn("worker {}: drain timeout: handing jobs {} back to the coordinator", name, jobThreads.keySet());
            jobThreads.values().forEach(Thread::interrupt);
            tails.forEach(Thread::interrupt); // their results are out: what is lost is cache entries
        }
        return finished;
    }

    /**
     * Waits, {@code timeout} at most, for the jobs that reported early to store their layers,
     * without draining: a farm that closes when its build ends keeps what the next build looks up.
     *
     * @return true when no store is left
     */
    public boolean awaitStores(Duration timeout) throws InterruptedException {
        return tailsEnded(System.nanoTime() + timeout.toNanos());
    }

    /** Waits, until {@code deadline} at most, for the jobs that reported early to store the rest. */
    private boolean tailsEnded(long deadline) throws InterruptedException {
        for (Thread tail : List.copyOf(tails)) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !tail.join(Duration.ofNanos(left))) {
                return false;
            }
        }
        return true;
    }

    /** Connects and keeps the session up until {@link #close()}. */
    public void start() {
        loop = Thread.ofPlatform().name("worker-session-" + name).daemon(true).start(this::sessionLoop);
    }

    private void sessionLoop() {
        Duration backoff = Duration.ofMillis(200);
        while (!closed) {
            CountDownLatch ended = new CountDownLatch(1);
            Session session = new Session(ended);
            session.open();
            try {
                ended.await();
            } catch (InterruptedException e) {
                return;
            }
            if (holdings != null) {
                holdings.disconnected();
            }
            if (closed) {
                return;
            }
            log.warn("worker {}: lost the coordinator, reconnecting in {} ms", name, backoff.toMillis());
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0
                    ? Duration.ofSeconds(5)
                    : backoff.multipliedBy(2);
        }
    }

    private final class Session implements ClientResponseObserver<WorkerMessage, CoordinatorMessage> {
        private final CountDownLatch ended;
        private StreamObserver<WorkerMessage> out;

        Session(CountDownLatch ended) {
            this.ended = ended;
        }

        /**
         * Whether the stream is up (gRPC says it is ready) and has not ended: results go here,
         * not to {@link #unreported}. A coordinator that is still away fails the call before
         * it is ready, so what waits for it is not lost in a stream that never started.
         */
        private volatile boolean live;

        private volatile boolean over;
        /**
         * Results sent on this session that the coordinator has not confirmed: a stream can take
         * a message after its other end has gone (gRPC reports the break later), so a result
         * stays the worker's until {@code received}; if the session ends first, it is reported
         * again on the next one. Guarded by {@link #reports}.
         */
        private final Map<String, JobResult> unconfirmed = new LinkedHashMap<>();

        private volatile boolean helloSent;
        private volatile ClientCallStreamObserver<WorkerMessage> call;

        @Override
        public void beforeStart(ClientCallStreamObserver<WorkerMessage> stream) {
            call = stream;
            stream.setOnReadyHandler(this::ready);
        }

        private void ready() {
            synchronized (reports) {
                if (over || live || !helloSent) {
                    return;
                }
                for (JobResult r : unreported.values()) {
                    send(WorkerMessage.newBuilder().setResult(r).build());
                    unconfirmed.put(r.getJobId(), r);
                }
                unreported.clear();
                live = true;
            }
        }

        void open() {
            synchronized (reports) {
                current = this;
                out = coordinator.connect(this);
                WorkerHello.Builder hello = WorkerHello.newBuilder()
                        .setName(name)
                        .setSlots(slots)
                        .addAllWarnings(warnings)
                        .addAllEntitlements(entitlements.stream().sorted().toList())
                        .setReleaseVersion(FarmVersion.CURRENT.release())
                        .setProtocolVersion(FarmVersion.CURRENT.protocol());
                runningJobs.forEach((id, job) -> hello.addRunning(RunningJob.newBuilder()
                        .setJobId(id)
                        .setWorkKey(job.getWorkKey())
                        .setTeam(job.getTeam())
                        .setStageName(job.getStageName())
                        .setFinished(unreported.containsKey(id))));
                storing.forEach((id, job) -> hello.addStoring(PendingStore.newBuilder()
                        .setJobId(id)
                        .setTeam(job.getTeam())
                        .setStepKey(job.getSteps(job.getStepsCount() - 1).getKey())));
                send(WorkerMessage.newBuilder().setHello(hello).build());
                helloSent = true;
                if (call != null && call.isReady()) {
                    ready(); // it became ready before the hello went out
                }
                if (hello.getRunningCount() > 0) {
                    log.info(
                            "worker {}: told the coordinator of {} jobs from before it reconnected",
                            name,
                            hello.getRunningCount());
                }
            }
            sendStatus();
            if (holdings != null) {
                holdings.connected(this::send);
            }
        }

        void ended() {
            synchronized (reports) {
                over = true;
                live = false;
                unreported.putAll(unconfirmed);
                unconfirmed.clear();
            }
            ended.countDown();
        }

        void sendStatus() {
            send(WorkerMessage.newBuilder().setStatus(status.get()).build());
        }

        synchronized void send(WorkerMessage message) {
            try {
                out.onNext(message);
            } catch (RuntimeException e) {
                log.warn("worker {}: could not send to the coordinator: {}", name, e.toString());
            }
        }

        @Override
        public void onNext(CoordinatorMessage message) {
            if (message.hasJob()) {
                Job job = message.getJob();
                runningJobs.put(job.getJobId(), job);
                jobs.execute(() -> runJob(job));
            } else if (message.hasDrain() && !draining) {
                log.info("worker {}: the coordinator asks it to drain", name);
                onDrainRequested.run();
            } else if (message.hasReceived()) {
                synchronized (reports) {
                    String id = message.getReceived().getJobId();
                    if (unconfirmed.remove(id) != null) {
                        runningJobs.remove(id);
                    }
                }
            } else if (message.hasCancel()) {
                Thread t = jobThreads.get(message.getCancel().getJobId());
                if (t != null) {
                    log.info(
                            "worker {}: cancelling job {}",
                            name,
                            message.getCancel().getJobId());
                    t.interrupt();
                }
            }
        }

        /** Sends on the session open now, if any; an event without one is dropped. */
        private void sendNow(WorkerMessage message) {
            Session s = current;
            if (s != null && s.live) {
                s.send(message);
            }
        }

        /**
         * A job's result goes to the coordinator of now: the one it came from may have gone away
         * meanwhile. With none listening, it waits for the next session's hello.
         */
        private void report(Job job, JobResult result) {
            synchronized (reports) {
                Session s = current;
                if (s != null && s.live) {
                    s.send(WorkerMessage.newBuilder().setResult(result).build());
                    s.unconfirmed.put(job.getJobId(), result);
                } else {
                    log.info(
                            "worker {}: job {} ended with no coordinator listening; it reports it on reconnecting",
                            name,
                            job.getJobId());
                    unreported.put(job.getJobId(), result);
                }
            }
        }

        /**
         * The layer a result reported early left pending is stored now (or failed): the
         * coordinator stops holding lookups of the step for it, and a result still waiting to be
         * confirmed, re-sent after a reconnect, no longer says it is pending.
         */
        private void stored(Job job, boolean ok) {
            synchronized (reports) {
                storing.remove(job.getJobId());
                Session s = current;
                for (Map<String, JobResult> waiting :
                        s == null ? List.of(unreported) : List.of(unreported, s.unconfirmed)) {
                    waiting.computeIfPresent(
                            job.getJobId(),
                            (id, r) -> r.toBuilder().setLayersPending(false).build());
                }
            }
            sendNow(WorkerMessage.newBuilder()
                    .setLayersStored(
                            LayersStored.newBuilder().setJobId(job.getJobId()).setOk(ok))
                    .build());
        }

        private void runJob(Job job) {
            // the coordinator sends a job only into a free slot: the queue is there, never here
            if (!running.tryAcquire()) {
                log.warn(
                        "worker {}: job {} came with all {} slots busy; it waits for one", name, job.getJobId(), slots);
                running.acquireUninterruptibly();
            }
            jobThreads.put(job.getJobId(), Thread.currentThread());
            AtomicBoolean reported = new AtomicBoolean();
            AtomicBoolean slotHeld = new AtomicBoolean(true);
            Runnable freeSlot = () -> {
                if (slotHeld.compareAndSet(true, false)) {
                    jobThreads.remove(job.getJobId());
                    running.release();
                }
            };
            try {
                JobResult result;
                try {
                    result = handler.run(
                            job,
                            event -> sendNow(
                                    WorkerMessage.newBuilder().setEvent(event).build()),
                            early -> {
                                if (!reported.getAndSet(true)) {
                                    if (early.getLayersPending() && job.getStepsCount() > 0) {
                                        storing.put(job.getJobId(), job);
                                    }
                                    report(job, early);
                                    // what is left holds no slot (the coordinator counts it free
                                    // now); a drain waits for it as a tail
                                    tails.add(Thread.currentThread());
                                    freeSlot.run();
                                }
                            });
                } catch (RuntimeException e) {
                    log.error("job {} crashed", job.getJobId(), e);
                    result = JobResult.newBuilder()
                            .setJobId(job.getJobId())
                            .setOk(false)
                            .setError("worker " + name + " failed: " + e)
                            .build();
                }
                if (!reported.getAndSet(true)) {
                    report(job, result);
                } else {
                    stored(job, result.getOk());
                }
                // the disk after the job's own eviction (JobHandler.run returns after it), sent
                // before the slot frees, so a drain waiting for the slot ends the stream after it
                sendNow(WorkerMessage.newBuilder().setStatus(status.get()).build());
            } finally {
                freeSlot.run();
                tails.remove(Thread.currentThread());
                Thread.interrupted(); // a cancel that came late must not reach the next job on this thread
            }
        }

        /** Ends the session from this side: the coordinator queues again whatever has not reported. */
        synchronized void complete() {
            try {
                out.onCompleted();
            } catch (RuntimeException alreadyClosed) {
                // the coordinator went away first
            }
        }

        @Override
        public void onError(Throwable t) {
            io.grpc.Status s = io.grpc.Status.fromThrowable(t);
            if (s.getCode() == io.grpc.Status.Code.FAILED_PRECONDITION) {
                // the version handshake refused us: the sentence says which side to upgrade
                log.error("worker {}: the coordinator refuses it: {}", name, s.getDescription());
            }
            ended();
        }

        @Override
        public void onCompleted() {
            synchronized (this) {
                try {
                    out.onCompleted();
                } catch (RuntimeException ignored) {
                    // already closed
                }
            }
            ended();
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        if (loop != null) {
            loop.interrupt();
        }
        jobs.shutdownNow();
        jobs.awaitTermination(5, TimeUnit.SECONDS);
        if (holdings != null) {
            holdings.close();
        }
        // end the session from this side, after the jobs' last messages: the coordinator ends
        // its side and the channel can shut down at once instead of waiting out its timeout
        Session session = current;
        if (session != null) {
            session.complete();
        }
    }
}
