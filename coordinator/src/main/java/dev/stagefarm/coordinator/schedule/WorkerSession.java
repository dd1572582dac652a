package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.farm.CancelJob;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.DrainRequest;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.ResultReceived;
import dev.stagefarm.proto.farm.RunningJob;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** One connected worker: its stream, and the jobs it is running now. */
public final class WorkerSession {

    private static final AtomicLong SESSIONS = new AtomicLong();

    private final String name;
    private final String id;
    private final int slots;
    private final StreamObserver<CoordinatorMessage> stream;
    private final Set<String> runningJobs = ConcurrentHashMap.newKeySet();
    private volatile boolean alive = true;
    private volatile boolean draining;
    private volatile long diskUsed;
    private volatile long diskBudget;
    private final Set<String> entitlements;
    private final List<String> warnings;
    /** Runs the worker kept going from an earlier session, as its hello told (adopted on join). */
    private volatile List<RunningJob> reported = List.of();

    WorkerSession(
            String name,
            int slots,
            StreamObserver<CoordinatorMessage> stream,
            Set<String> entitlements,
            List<String> warnings) {
        this.entitlements = Set.copyOf(entitlements);
        this.warnings = List.copyOf(warnings);
        this.name = name;
        this.id = name + "#" + SESSIONS.incrementAndGet();
        this.slots = Math.max(1, slots);
        this.stream = stream;
    }

    public String name() {
        return name;
    }

    /** This session, apart from an earlier or later one of a worker with the same name. */
    public String id() {
        return id;
    }

    /** Jobs the worker runs at once ({@code stagefarm worker --slots}). */
    public int slots() {
        return slots;
    }

    /** What the worker grants builds (its --allow), from its hello. */
    public Set<String> entitlements() {
        return entitlements;
    }

    /** What the worker said operators should know about it (its hello's warnings). */
    public List<String> warnings() {
        return warnings;
    }

    /** The worker's local disk, as it last reported it (0 before its first report). */
    public long diskUsed() {
        return diskUsed;
    }

    /** The worker's --max-local-size; 0 when it has none. */
    public long diskBudget() {
        return diskBudget;
    }

    public void reportDisk(long used, long budget) {
        diskUsed = used;
        diskBudget = budget;
    }

    public int load() {
        return runningJobs.size();
    }

    boolean alive() {
        return alive;
    }

    Set<String> runningJobs() {
        return Set.copyOf(runningJobs);
    }

    /** The runs the worker's hello reported (empty for a worker that ran nothing before). */
    public List<RunningJob> reported() {
        return reported;
    }

    void reported(List<RunningJob> running) {
        reported = List.copyOf(running);
    }

    /** A run the worker reported in its hello is now counted as this session's. */
    void adopted(String jobId) {
        runningJobs.add(jobId);
    }

    /** Whether this session was sent the job and has not answered it yet. */
    boolean runs(String jobId) {
        return runningJobs.contains(jobId);
    }

    /** gRPC stream observers are not thread-safe: every send goes through here. */
    synchronized void send(Job job) {
        runningJobs.add(job.getJobId());
        stream.onNext(CoordinatorMessage.newBuilder().setJob(job).build());
    }

    /** Asks the worker to stop a job: its container is killed, its result discarded. */
    synchronized void cancel(String jobId) {
        stream.onNext(CoordinatorMessage.newBuilder()
                .setCancel(CancelJob.newBuilder().setJobId(jobId))
                .build());
    }

    /** Tells the worker its result for the job is held here: it need not report it again. */
    public synchronized void received(String jobId) {
        try {
            stream.onNext(CoordinatorMessage.newBuilder()
                    .setReceived(ResultReceived.newBuilder().setJobId(jobId))
                    .build());
        } catch (RuntimeException streamClosed) {
            // the worker went away meanwhile: it reports the result again in its next hello
        }
    }

    /** Asks the worker to drain, as SIGTERM would: it finishes its jobs, then exits. */
    public synchronized void drain() {
        stream.onNext(CoordinatorMessage.newBuilder()
                .setDrain(DrainRequest.getDefaultInstance())
                .build());
    }

    public boolean draining() {
        return draining;
    }

    void markDraining() {
        draining = true;
    }

    void finished(String jobId) {
        runningJobs.remove(jobId);
    }

    void markDead() {
        alive = false;
    }

    synchronized void close() {
        alive = false;
        try {
            stream.onCompleted();
        } catch (RuntimeException alreadyClosed) {
            // the worker went away first
        }
    }
}
