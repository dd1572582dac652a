package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** One connected worker: its stream, and the jobs it is running now. */
public final class WorkerSession {

    private final String name;
    private final StreamObserver<CoordinatorMessage> stream;
    private final Set<String> runningJobs = ConcurrentHashMap.newKeySet();
    private volatile boolean alive = true;

    WorkerSession(String name, StreamObserver<CoordinatorMessage> stream) {
        this.name = name;
        this.stream = stream;
    }

    public String name() {
        return name;
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

    /** gRPC stream observers are not thread-safe: every send goes through here. */
    synchronized void send(Job job) {
        runningJobs.add(job.getJobId());
        stream.onNext(CoordinatorMessage.newBuilder().setJob(job).build());
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
