package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobResult;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a coordinator restart leaves behind: runs that went on on workers while no coordinator
 * was there, and builds resubmitted for them. The rule (coordinator/README.md, "A coordinator
 * restart"): for {@link #WINDOW} after the coordinator starts, a job of a resubmitted build is
 * held instead of queued, unless a reconnected worker already reported a run of its work, which
 * it then joins; when the window ends, every held job is queued. A reported run that ends with
 * no job waiting for it keeps its result for {@link #WINDOW}, for a resubmission planned just
 * before. Not thread-safe: the dispatcher calls it under its lock.
 */
final class Reconnects {

    /** How long after the coordinator starts a resubmitted build's jobs wait for their workers. */
    static final Duration WINDOW = Duration.ofSeconds(10);

    /** A job held while its work may still run on a worker that has not reconnected. */
    record Held(Job job, JobTicket ticket, String adoptionKey) {}

    /** The result of a reported run that no job waited for when it ended. */
    record Unclaimed(String worker, JobResult result, Instant until) {}

    private final InstantSource clock;
    private final Instant windowEnds;
    private final Map<String, Held> held = new LinkedHashMap<>();
    /** The reported runs adopted, by wire id: their adoption keys. */
    private final Map<String, String> adopted = new HashMap<>();

    private final Map<String, Unclaimed> unclaimed = new HashMap<>();

    Reconnects(InstantSource clock) {
        this.clock = clock;
        this.windowEnds = clock.instant().plus(WINDOW);
    }

    Instant windowEnds() {
        return windowEnds;
    }

    /** Whether a job of a build (resubmitted or not) is held now rather than queued. */
    boolean holds(boolean resubmitted) {
        return resubmitted && clock.instant().isBefore(windowEnds);
    }

    void hold(Held h) {
        held.put(h.job().getJobId(), h);
    }

    /** A held job is no longer wanted. */
    boolean drop(String jobId) {
        return held.remove(jobId) != null;
    }

    /** The held jobs whose work a reconnected worker reported running: they join its run. */
    List<Held> releaseMatching(String adoptionKey) {
        List<Held> out = new ArrayList<>();
        for (Iterator<Held> it = held.values().iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (h.adoptionKey().equals(adoptionKey)) {
                out.add(h);
                it.remove();
            }
        }
        return out;
    }

    /** Every held job once the window has ended; none before. */
    List<Held> releaseIfOver() {
        if (clock.instant().isBefore(windowEnds) || held.isEmpty()) {
            return List.of();
        }
        List<Held> out = List.copyOf(held.values());
        held.clear();
        return out;
    }

    int heldCount() {
        return held.size();
    }

    /** A team's held jobs: still waiting for a slot, as an autoscaler should count them. */
    int heldFor(String team) {
        int n = 0;
        for (Held h : held.values()) {
            n += h.ticket().team().equals(team) ? 1 : 0;
        }
        return n;
    }

    void adopted(String wireId, String adoptionKey) {
        adopted.put(wireId, adoptionKey);
    }

    /** An adopted run ended; with no job waiting for it, its result is kept a while. */
    void ended(String wireId, boolean claimed, String worker, JobResult result) {
        String key = adopted.remove(wireId);
        if (key != null && !claimed && result.getOk()) {
            unclaimed.put(key, new Unclaimed(worker, result, clock.instant().plus(WINDOW)));
        }
    }

    /** The kept result of a reported run of this work, if one ended lately. */
    Optional<Unclaimed> unclaimed(String adoptionKey) {
        Instant now = clock.instant();
        unclaimed.values().removeIf(u -> now.isAfter(u.until()));
        return Optional.ofNullable(unclaimed.remove(adoptionKey));
    }
}
