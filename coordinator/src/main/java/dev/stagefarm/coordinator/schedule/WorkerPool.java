package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.farm.CoordinatorMessage;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The workers connected now. Workers join by opening their stream; they leave when it ends. */
public final class WorkerPool {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final Map<String, WorkerSession> workers = new ConcurrentHashMap<>();

    public WorkerSession join(String name, StreamObserver<CoordinatorMessage> stream) {
        WorkerSession session = new WorkerSession(name, stream);
        WorkerSession previous = workers.put(name, session);
        if (previous != null) {
            // A worker that reconnects under its name replaces its stale session.
            previous.markDead();
        }
        log.info("worker {} joined ({} connected)", name, workers.size());
        synchronized (this) {
            notifyAll();
        }
        return session;
    }

    public void leave(WorkerSession session) {
        session.markDead();
        workers.remove(session.name(), session);
        log.info("worker {} left ({} connected)", session.name(), workers.size());
    }

    public List<WorkerSession> alive() {
        return workers.values().stream()
                .filter(WorkerSession::alive)
                .sorted(Comparator.comparing(WorkerSession::name))
                .toList();
    }

    /**
     * The worker to run a job: the one scoring highest on locality (bytes of the job's inputs
     * it already holds), then the least loaded, then by name so that choices are stable.
     * Waits up to {@code wait} for a first worker to connect.
     */
    Optional<WorkerSession> choose(ToLongFunction<String> localBytes, java.util.Set<String> avoid, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        synchronized (this) {
            while (true) {
                Optional<WorkerSession> best = alive().stream()
                        .filter(w -> !avoid.contains(w.name()))
                        .max(Comparator.<WorkerSession>comparingLong(w -> localBytes.applyAsLong(w.name()))
                                .thenComparing(Comparator.comparingInt(WorkerSession::load)
                                        .reversed())
                                .thenComparing(WorkerSession::name, Comparator.reverseOrder()));
                long left = deadline - System.nanoTime();
                if (best.isPresent() || left <= 0) {
                    return best;
                }
                wait(Math.max(1, Math.min(left / 1_000_000, 1000)));
            }
        }
    }
}
