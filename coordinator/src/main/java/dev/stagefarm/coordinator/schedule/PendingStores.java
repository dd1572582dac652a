package dev.stagefarm.coordinator.schedule;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Steps whose job reported its result before the step was stored in the cache (a stage whose
 * layers no stage of its build takes, {@code Job.layers_unneeded}): a build that looks such a
 * step up waits until its worker says it is stored, so that a build right after another finds
 * the step cached instead of running it again. A worker that goes away ends its waits (its
 * store will not be reported); so does {@link #MAX_WAIT}, after which the lookup simply misses.
 * Per team, as the cache is: one team's build never waits on another's.
 */
public final class PendingStores {

    private static final Logger log = LoggerFactory.getLogger(PendingStores.class);

    /** Longer than a layer of a few GB takes to pack and upload; a lookup then goes on and misses. */
    public static final Duration MAX_WAIT = Duration.ofMinutes(5);

    private record Store(String worker, String teamKey, CompletableFuture<Void> done) {}

    private final Map<String, Store> byJob = new HashMap<>();
    private final Map<String, CompletableFuture<Void>> byKey = new HashMap<>();

    /** Job {@code jobId} of {@code team}, on {@code worker}, reported before storing step {@code stepKey}. */
    public synchronized void storing(String jobId, String worker, String team, String stepKey) {
        Store known = byJob.get(jobId);
        if (known != null && known.worker().equals(worker) && known.teamKey().equals(team + "\0" + stepKey)) {
            return; // heard twice: in a reconnected worker's hello and with its result sent again
        }
        if (known != null) {
            end(known); // its waits end now rather than at MAX_WAIT
        }
        Store store = new Store(worker, team + "\0" + stepKey, new CompletableFuture<>());
        byJob.put(jobId, store);
        byKey.put(store.teamKey(), store.done());
    }

    /**
     * {@code worker} says the job's step is stored, or that it could not store it. Only the worker
     * that reported the job ends its wait: another worker's word for it is ignored.
     */
    public synchronized void stored(String jobId, String worker) {
        Store store = byJob.get(jobId);
        if (store == null) {
            return;
        }
        if (!store.worker().equals(worker)) {
            log.warn("worker {} said job {} is stored, but {} stores it; ignored", worker, jobId, store.worker());
            return;
        }
        byJob.remove(jobId);
        end(store);
    }

    /** The worker's stream ended: the stores it still owed will not be reported. */
    public synchronized void workerGone(String worker) {
        byJob.values().removeIf(store -> {
            if (store.worker().equals(worker)) {
                end(store);
                return true;
            }
            return false;
        });
    }

    private void end(Store store) {
        byKey.remove(store.teamKey(), store.done());
        store.done().complete(null);
    }

    /** How many steps are being stored now. */
    public synchronized int size() {
        return byJob.size();
    }

    /**
     * Returns once none of {@code keys} of {@code team} is being stored, or after {@code max};
     * immediately when none is.
     */
    public void awaitStored(String team, Collection<String> keys, Duration max) throws InterruptedException {
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        synchronized (this) {
            for (String key : keys) {
                CompletableFuture<Void> done = byKey.get(team + "\0" + key);
                if (done != null) {
                    waits.add(done);
                }
            }
        }
        if (waits.isEmpty()) {
            return;
        }
        log.debug("a lookup of team {} waits for {} step(s) still being stored", team, waits.size());
        try {
            CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)).get(max.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn(
                    "a lookup of team {} waited {} s for steps still being stored; it goes on without them",
                    team,
                    max.toSeconds());
        } catch (ExecutionException e) {
            throw new IllegalStateException("a pending store ended abnormally", e.getCause());
        }
    }
}
