package dev.stagefarm.worker.agent;

import dev.stagefarm.common.version.FarmVersion;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.WorkerDraining;
import dev.stagefarm.proto.farm.WorkerHello;
import dev.stagefarm.proto.farm.WorkerMessage;
import dev.stagefarm.proto.farm.WorkerStatus;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
        JobResult run(Job job, Consumer<JobEvent> events);
    }

    private final String name;
    private final int slots;
    private final Set<String> entitlements;
    private final CoordinatorGrpc.CoordinatorStub coordinator;
    private final JobHandler handler;
    private final ExecutorService jobs = Executors.newVirtualThreadPerTaskExecutor();
    private final Semaphore running;
    /** The thread of each job running now: cancelling a job interrupts it, which kills its container. */
    private final Map<String, Thread> jobThreads = new ConcurrentHashMap<>();

    private volatile boolean closed;
    private volatile boolean draining;
    private volatile Thread loop;
    private final List<String> warnings;
    private volatile Session current;
    private volatile Runnable onDrainRequested = () -> {};
    private volatile java.util.function.Supplier<WorkerStatus> status = WorkerStatus::getDefaultInstance;

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
        this.entitlements = Set.copyOf(entitlements);
        this.coordinator = CoordinatorGrpc.newStub(coordinator);
        this.handler = handler;
        this.running = new Semaphore(slots);
    }

    /** The jobs running on this worker now. */
    public int runningJobs() {
        return jobThreads.size();
    }

    /** What this worker reports of itself (its disk) after its hello and after each job. */
    public void reportStatus(java.util.function.Supplier<WorkerStatus> status) {
        this.status = status;
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
        boolean finished = running.tryAcquire(slots, timeout.toMillis(), TimeUnit.MILLISECONDS);
        closed = true; // no reconnect once the session ends
        if (session != null) {
            session.complete();
        }
        if (finished) {
            running.release(slots);
            log.info("worker {}: drained", name);
        } else {
            log.warn("worker {}: drain timeout: handing jobs {} back to the coordinator", name, jobThreads.keySet());
            jobThreads.values().forEach(Thread::interrupt);
        }
        return finished;
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

    private final class Session implements StreamObserver<CoordinatorMessage> {
        private final CountDownLatch ended;
        private StreamObserver<WorkerMessage> out;

        Session(CountDownLatch ended) {
            this.ended = ended;
        }

        void open() {
            current = this;
            out = coordinator.connect(this);
            send(WorkerMessage.newBuilder()
                    .setHello(WorkerHello.newBuilder()
                            .setName(name)
                            .setSlots(slots)
                            .addAllWarnings(warnings)
                            .addAllEntitlements(entitlements.stream().sorted().toList())
                            .setReleaseVersion(FarmVersion.CURRENT.release())
                            .setProtocolVersion(FarmVersion.CURRENT.protocol()))
                    .build());
            sendStatus();
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
                jobs.execute(() -> runJob(job));
            } else if (message.hasDrain() && !draining) {
                log.info("worker {}: the coordinator asks it to drain", name);
                onDrainRequested.run();
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

        private void runJob(Job job) {
            // the coordinator sends a job only into a free slot: the queue is there, never here
            if (!running.tryAcquire()) {
                log.warn(
                        "worker {}: job {} came with all {} slots busy; it waits for one", name, job.getJobId(), slots);
                running.acquireUninterruptibly();
            }
            jobThreads.put(job.getJobId(), Thread.currentThread());
            try {
                JobResult result;
                try {
                    result = handler.run(
                            job,
                            event -> send(
                                    WorkerMessage.newBuilder().setEvent(event).build()));
                } catch (RuntimeException e) {
                    log.error("job {} crashed", job.getJobId(), e);
                    result = JobResult.newBuilder()
                            .setJobId(job.getJobId())
                            .setOk(false)
                            .setError("worker " + name + " failed: " + e)
                            .build();
                }
                send(WorkerMessage.newBuilder().setResult(result).build());
                // the disk after the job's own eviction (JobHandler.run returns after it), sent
                // before the slot frees, so a drain waiting for the slot ends the stream after it
                sendStatus();
            } finally {
                jobThreads.remove(job.getJobId());
                Thread.interrupted(); // a cancel that came late must not reach the next job on this thread
                running.release();
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
            ended.countDown();
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
            ended.countDown();
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
        // end the session from this side, after the jobs' last messages: the coordinator ends
        // its side and the channel can shut down at once instead of waiting out its timeout
        Session session = current;
        if (session != null) {
            session.complete();
        }
    }
}
