package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.RunningJob;
import io.grpc.stub.StreamObserver;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The workers connected now. Workers join by opening their stream; they leave when it ends. */
public final class WorkerPool {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final Map<String, WorkerSession> workers = new ConcurrentHashMap<>();

    private final List<Consumer<WorkerSession>> joinListeners = new CopyOnWriteArrayList<>();

    /** Told of every worker that joins, after it is listed. */
    public void onJoin(Consumer<WorkerSession> listener) {
        joinListeners.add(listener);
    }

    /** A worker with one slot. */
    public WorkerSession join(String name, StreamObserver<CoordinatorMessage> stream) {
        return join(name, 1, stream);
    }

    public WorkerSession join(String name, int slots, StreamObserver<CoordinatorMessage> stream) {
        return join(name, slots, stream, Set.of(), List.of());
    }

    /**
     * @param entitlements what the worker grants builds (its {@code --allow})
     * @param warnings what operators should know about the worker (e.g. runc CVEs it lacks fixes for)
     */
    public WorkerSession join(
            String name,
            int slots,
            StreamObserver<CoordinatorMessage> stream,
            Set<String> entitlements,
            List<String> warnings) {
        return join(name, slots, stream, entitlements, warnings, List.of());
    }

    /** @param running the runs the worker kept going from an earlier session (its hello's), to adopt */
    public WorkerSession join(
            String name,
            int slots,
            StreamObserver<CoordinatorMessage> stream,
            Set<String> entitlements,
            List<String> warnings,
            List<RunningJob> running) {
        WorkerSession session = new WorkerSession(name, slots, stream, entitlements, warnings);
        session.reported(running);
        WorkerSession previous = workers.put(name, session);
        if (previous != null) {
            // A worker that reconnects under its name replaces its stale session.
            previous.markDead();
        }
        log.info("worker {} joined with {} slots ({} connected)", name, session.slots(), workers.size());
        joinListeners.forEach(l -> l.accept(session));
        return session;
    }

    public void leave(WorkerSession session) {
        session.markDead();
        workers.remove(session.name(), session);
        log.info("worker {} left ({} connected)", session.name(), workers.size());
    }

    public Optional<WorkerSession> named(String name) {
        return Optional.ofNullable(workers.get(name)).filter(WorkerSession::alive);
    }

    public List<WorkerSession> alive() {
        return workers.values().stream()
                .filter(WorkerSession::alive)
                .sorted(Comparator.comparing(WorkerSession::name))
                .toList();
    }
}
