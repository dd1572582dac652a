package dev.stagefarm.coordinator.schedule;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * The farm's one queue and its slots, as pure code: no threads, no I/O, time from an
 * {@link InstantSource}, so that tests and a simulation drive it exactly as the coordinator does.
 * Not thread-safe: its owner calls it under one lock.
 *
 * <p>A job waits here until a worker has a free slot; workers never hold a backlog. Which job
 * takes a free slot: first the team whose running jobs, divided by its weight, are fewest (so a
 * team with nothing running takes the next slot that frees, whatever another team has queued,
 * and teams with queued work take slots in turn, a team of weight 2 twice as many as one of
 * weight 1); on equal shares the heavier team, then the one served longest ago (so the slots
 * split as close to the weights as whole slots allow); within the team, the earliest submitted
 * build; within the build, the longest chain of work left (its steps' recorded durations, see
 * {@link StageTimings}). Which worker: among those with a free slot, one that has not lost this
 * job before, then the one holding most of the job's input bytes, then the least loaded, then by
 * name.
 *
 * <p>Input bytes a worker holds: the larger of what the build knows ({@link
 * JobTicket#localBytes}: the stages it ran there, so a final stage lands on the holder of its
 * {@code --from} artifacts when that worker is free) and what the worker reported holding for
 * the job's team across builds ({@link #holdings()}, looked up by {@link JobTicket#inputs}).
 *
 * <p>Delay scheduling, as Spark's {@code spark.locality.wait} (numbers in {@link Locality},
 * coordinator flags {@code --locality-wait}, {@code --locality-min-saving}, {@code
 * --locality-rate}): when a busy worker holds {@code S} more bytes of a job's inputs than the
 * best free one, the job lets the free slot go to the jobs behind it and waits for the busy
 * worker, if fetching {@code S} at the assumed rate (default 100 MiB/s) takes at least the
 * minimum saving (default 1 s), and for at most {@code min(S / rate, locality wait)} (default
 * 3 s) from the first time it was passed over; then it takes any free worker. A job whose team
 * has nothing running never waits, so locality cannot starve a team. {@link
 * #nextLocalityDeadline} tells the owner when to call {@link #place} again.
 *
 * <p>Identical work (same work key, which includes the team) queued or running twice is one
 * {@link Work} with two members: it runs once and every member gets its result.
 */
public final class Scheduler {

    /** How often a job may be lost with its worker before its build fails. */
    public static final int MAX_ATTEMPTS = 3;

    private final InstantSource clock;
    private final ToDoubleFunction<String> teamWeight;
    private final Locality locality;
    private final LocalityIndex holdings;
    /** Queued work waiting for a better-placed worker. */
    private final Set<Work> deferred = new HashSet<>();
    /** Waits begun since {@link #localityWaitsBegun} was last called. */
    private final List<LocalityWait> waitsBegun = new ArrayList<>();

    private final Map<String, Slots> workers = new TreeMap<>();
    private final Map<String, Work> byKey = new HashMap<>();
    private final Map<String, Work> byJob = new HashMap<>();
    private final Map<String, Work> byWire = new HashMap<>();
    private final Map<String, TreeSet<Work>> queues = new TreeMap<>();
    private final Map<String, Integer> running = new HashMap<>();
    /** When each team last got a slot (a placement count): equal shares take turns. */
    private final Map<String, Long> lastServed = new HashMap<>();

    private long sequence;
    private long placements;

    /** @param teamWeight a team's share of the slots relative to other teams (1 unless told) */
    public Scheduler(InstantSource clock, ToDoubleFunction<String> teamWeight) {
        this(clock, teamWeight, Locality.DEFAULTS);
    }

    /** @param locality how long a job may wait for a better-placed worker, and the index's bounds */
    public Scheduler(InstantSource clock, ToDoubleFunction<String> teamWeight, Locality locality) {
        this.clock = clock;
        this.teamWeight = teamWeight;
        this.locality = locality;
        this.holdings = new LocalityIndex(locality);
    }

    public Scheduler(InstantSource clock) {
        this(clock, team -> 1.0);
    }

    private static final Comparator<Work> WITHIN_TEAM = Comparator.<Work, Instant>comparing(
                    w -> w.first.buildSubmitted())
            .thenComparing(w -> w.first.buildId())
            .thenComparing(
                    Comparator.<Work>comparingLong(w -> w.first.criticalPath()).reversed())
            .thenComparingLong(w -> w.sequence);

    /** A job sent to a worker: the id it runs under there, and every job that waits for it. */
    public record Placement(String wireId, String workerId, String team, Duration waited, Set<String> jobs) {}

    /** A run that ended, and the jobs that get its result. */
    public record Finished(String wireId, String team, Set<String> jobs) {}

    /** A job lost with its worker, too often to try again. */
    public record Exhausted(String wireId, Set<String> jobs, List<String> lostOn) {}

    /** A job began to wait for a busy worker that holds {@code savedBytes} more of its inputs. */
    public record LocalityWait(String wireId, String workerName, long savedBytes, Duration upTo, Set<String> jobs) {}

    /** What {@link #withdraw} did. */
    public sealed interface Withdrawal {
        /** Nothing to do: unknown, or left in the queue or running for other jobs. */
        record Nothing() implements Withdrawal {}

        /** It ran for this job alone: stop it on its worker. */
        record Stop(String wireId, String workerId) implements Withdrawal {}
    }

    public void addWorker(String id, String name, int slots) {
        addWorker(id, name, slots, Set.of());
    }

    /** @param grants the entitlements the worker grants (its {@code --allow}); a job needing others never goes there */
    public void addWorker(String id, String name, int slots, Set<String> grants) {
        workers.put(id, new Slots(id, name, slots, grants));
    }

    /**
     * A worker is gone: its jobs go back to the queue in their old place, except those already
     * lost {@value #MAX_ATTEMPTS} times, which are returned to be failed.
     */
    public List<Exhausted> removeWorker(String id) {
        Slots gone = workers.remove(id);
        holdings.forgetWorker(id);
        List<Exhausted> exhausted = new ArrayList<>();
        if (gone == null) {
            return exhausted;
        }
        for (Work w : gone.running) {
            if (w.members.isEmpty()) {
                if (byWire.get(w.wireId) == w) { // adopted, and no job came for it
                    decrement(w.first.team());
                    forget(w);
                }
                continue; // withdrawn: no job waits for it any more
            }
            w.worker = null;
            w.lostOn.add(gone.name);
            decrement(w.first.team());
            if (w.lostOn.size() >= MAX_ATTEMPTS) {
                forget(w);
                exhausted.add(new Exhausted(w.wireId, Set.copyOf(w.members), List.copyOf(w.lostOn)));
            } else {
                queue(w);
            }
        }
        return exhausted;
    }

    /** The worker finishes what it runs and takes nothing new. */
    public void drain(String id) {
        Slots s = workers.get(id);
        if (s != null) {
            s.draining = true;
        }
    }

    /** @return true when the job starts new work, false when it joins identical work queued or running */
    public boolean submit(JobTicket ticket) {
        Work same = byKey.get(ticket.workKey());
        if (same != null) {
            same.members.add(ticket.jobId());
            byJob.put(ticket.jobId(), same);
            return false;
        }
        Work w = new Work(ticket, sequence++, clock.instant());
        byKey.put(ticket.workKey(), w);
        byJob.put(ticket.jobId(), w);
        byWire.put(w.wireId, w);
        queue(w);
        return true;
    }

    /**
     * Fills every free slot it can, in the queue's order. A job that no free worker may take (it
     * needs an entitlement they do not grant) keeps its place and lets the jobs behind it by.
     */
    public List<Placement> place() {
        List<Placement> out = new ArrayList<>();
        Set<String> stuck = new HashSet<>();
        Instant now = clock.instant();
        while (true) {
            Optional<String> team = nextTeam(stuck);
            if (team.isEmpty()) {
                return out;
            }
            TreeSet<Work> queue = queues.get(team.get());
            Work w = null;
            Optional<Slots> worker = Optional.empty();
            for (Work candidate : queue) {
                Map<String, Long> held = holdings.bytesByWorker(candidate.first.team(), candidate.first.inputs());
                worker = bestWorker(candidate, held);
                if (worker.isPresent() && waitsForBetter(candidate, worker.get(), held, now)) {
                    continue; // its free slot goes to the jobs behind it
                }
                if (worker.isPresent()) {
                    w = candidate;
                    break;
                }
                if (workers.values().stream().noneMatch(x -> x.free() > 0)) {
                    return out; // no free slot anywhere
                }
            }
            if (w == null) {
                stuck.add(team.get());
                continue;
            }
            queue.remove(w);
            if (queue.isEmpty()) {
                queues.remove(team.get());
            }
            deferred.remove(w);
            w.worker = worker.get();
            worker.get().running.add(w);
            running.merge(w.first.team(), 1, Integer::sum);
            lastServed.put(w.first.team(), placements++);
            out.add(new Placement(
                    w.wireId,
                    worker.get().id,
                    w.first.team(),
                    Duration.between(w.queuedAt, clock.instant()),
                    Set.copyOf(w.members)));
        }
    }

    /**
     * A worker reports the end of a run. A report from a worker the work was taken from (it was
     * given up as lost) is ignored: empty.
     */
    public Optional<Finished> finish(String wireId, String workerId) {
        Work w = byWire.get(wireId);
        Slots s = workers.get(workerId);
        if (s != null && w == null) {
            // a run no job wanted any more held its slot until now
            s.running.removeIf(r -> r.wireId.equals(wireId));
        }
        if (w == null || w.worker == null || w.worker != s) {
            return Optional.empty();
        }
        s.running.remove(w);
        decrement(w.first.team());
        forget(w);
        return Optional.of(new Finished(w.wireId, w.first.team(), Set.copyOf(w.members)));
    }

    /** A queued job fails before it ran (no worker came, say): it leaves the queue with every job that shares it. */
    public Set<String> dequeue(String jobId) {
        Work w = byJob.get(jobId);
        if (w == null || w.worker != null) {
            return Set.of();
        }
        unqueue(w);
        forget(w);
        return Set.copyOf(w.members);
    }

    /**
     * A job is no longer wanted (its build was cancelled or failed). Queued work leaves the queue
     * once no job wants it; running work is stopped once no job wants it, and keeps its slot
     * until its worker answers.
     */
    public Withdrawal withdraw(String jobId) {
        Work w = byJob.remove(jobId);
        if (w == null) {
            return new Withdrawal.Nothing();
        }
        w.members.remove(jobId);
        if (!w.members.isEmpty()) {
            return new Withdrawal.Nothing();
        }
        byKey.remove(w.first.workKey(), w);
        byWire.remove(w.wireId, w);
        if (w.worker == null) {
            unqueue(w);
            return new Withdrawal.Nothing();
        }
        decrement(w.first.team());
        // the slot stays taken (by a run no job wants) until the worker answers
        return new Withdrawal.Stop(w.wireId, w.worker.id);
    }

    /** The jobs that wait for a run: events and the result of {@code wireId} go to each. */
    public Set<String> jobsOf(String wireId) {
        Work w = byWire.get(wireId);
        return w == null ? Set.of() : Set.copyOf(w.members);
    }

    /** Queued jobs that have lost a worker before: where. Empty for jobs never started. */
    public List<String> lostOn(String jobId) {
        Work w = byJob.get(jobId);
        return w == null ? List.of() : List.copyOf(w.lostOn);
    }

    public boolean isQueued(String jobId) {
        Work w = byJob.get(jobId);
        return w != null && w.worker == null;
    }

    public int workerCount() {
        return workers.size();
    }

    public int queued(String team) {
        TreeSet<Work> q = queues.get(team);
        return q == null ? 0 : q.size();
    }

    public int running(String team) {
        return running.getOrDefault(team, 0);
    }

    /** Teams with queued or running work. */
    public Set<String> activeTeams() {
        Set<String> teams = new TreeSet<>(queues.keySet());
        running.forEach((t, n) -> {
            if (n > 0) {
                teams.add(t);
            }
        });
        return teams;
    }

    /** Slots by state: free, busy (running, draining or not) and draining (free ones of draining workers). */
    public int slots(String state) {
        int n = 0;
        for (Slots s : workers.values()) {
            int busy = Math.min(s.slots, s.running.size());
            n += switch (state) {
                case "free" -> s.free();
                case "busy" -> busy;
                case "draining" -> s.draining ? s.slots - busy : 0;
                default -> throw new IllegalArgumentException(state);
            };
        }
        return n;
    }

    public boolean draining(String workerId) {
        Slots s = workers.get(workerId);
        return s != null && s.draining;
    }

    /** Runs on a worker now, by wire id. */
    public Set<String> runningOn(String workerId) {
        Slots s = workers.get(workerId);
        Set<String> ids = new LinkedHashSet<>();
        if (s != null) {
            s.running.forEach(w -> ids.add(w.wireId));
        }
        return ids;
    }

    /**
     * What {@link #adopt} made of a run a worker reported.
     *
     * @param duplicate identical work runs on another worker already: this run is not wanted, stop it
     * @param replaced the id of queued work the run became (its jobs now wait for the run), or empty
     */
    public record Adoption(boolean duplicate, String replaced) {}

    /**
     * A worker that reconnects (to a restarted coordinator, or after a cut stream) reports a run
     * it kept going: the run takes one of its slots as if placed there, and jobs submitted with
     * {@code workKey} join it instead of running it again. Work with that key running on an
     * earlier session of the same worker moves to this one; running on another worker, it makes
     * this run a duplicate.
     */
    public Adoption adopt(String workerId, String wireId, String team, String workKey) {
        Slots s = workers.get(workerId);
        if (s == null) {
            throw new IllegalArgumentException("no worker " + workerId);
        }
        Work same = byWire.containsKey(wireId) ? byWire.get(wireId) : byKey.get(workKey);
        if (same != null && same.worker == null) {
            String replaced = same.wireId;
            takeOver(same, s, wireId);
            return new Adoption(false, replaced);
        }
        if (same != null) {
            if (!same.worker.name.equals(s.name) || !same.wireId.equals(wireId)) {
                return new Adoption(true, "");
            }
            same.worker.running.remove(same);
            same.worker = s;
            s.running.add(same);
            return new Adoption(false, "");
        }
        Work w = new Work(
                new JobTicket(wireId, team, "", workKey, clock.instant(), 1, x -> 0), sequence++, clock.instant());
        w.members.clear(); // until a job with its key comes
        byKey.put(workKey, w);
        byWire.put(wireId, w);
        w.worker = s;
        s.running.add(w);
        running.merge(team, 1, Integer::sum);
        return new Adoption(false, "");
    }

    /**
     * Queued work that a reconnecting worker turns out to run already (under {@code wireId}):
     * it leaves the queue and runs there.
     *
     * @return false when the job is not queued
     */
    public boolean adoptQueued(String jobId, String workerId, String wireId) {
        Work w = byJob.get(jobId);
        Slots s = workers.get(workerId);
        if (w == null || w.worker != null || s == null) {
            return false;
        }
        takeOver(w, s, wireId);
        return true;
    }

    /** Whether work with this key is queued or running. */
    public boolean hasWork(String workKey) {
        return byKey.containsKey(workKey);
    }

    /** The id the run a job waits for goes by on its worker (empty when the job is unknown). */
    public Optional<String> wireIdOf(String jobId) {
        return Optional.ofNullable(byJob.get(jobId)).map(w -> w.wireId);
    }

    private void takeOver(Work w, Slots s, String wireId) {
        unqueue(w);
        byWire.remove(w.wireId, w);
        w.wireId = wireId;
        byWire.put(wireId, w);
        w.worker = s;
        s.running.add(w);
        running.merge(w.first.team(), 1, Integer::sum);
    }

    /**
     * The team with the smallest share of running work; on equal shares the heavier one, then the
     * one served longest ago. Weights are read on each call: a reloaded tokens file applies at once.
     */
    private Optional<String> nextTeam(Set<String> skip) {
        String best = null;
        double bestShare = 0;
        double bestWeight = 0;
        long bestServed = 0;
        Work bestHead = null;
        for (var e : queues.entrySet()) {
            String team = e.getKey();
            if (skip.contains(team)) {
                continue;
            }
            double weight = Math.max(1e-9, teamWeight.applyAsDouble(team));
            double share = running(team) / weight;
            long served = lastServed.getOrDefault(team, -1L);
            Work head = e.getValue().first();
            int order = best == null ? -1 : Double.compare(share, bestShare);
            if (order == 0) {
                order = Double.compare(bestWeight, weight);
            }
            if (order == 0) {
                order = Long.compare(served, bestServed);
            }
            if (order == 0) {
                order = WITHIN_TEAM.compare(head, bestHead);
            }
            if (order < 0) {
                best = team;
                bestShare = share;
                bestWeight = weight;
                bestServed = served;
                bestHead = head;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The index that workers' reports of what they hold feed ({@code held}, {@code evicted},
     * {@code forgetWorker} by worker id); a worker removed here is forgotten there.
     */
    public LocalityIndex holdings() {
        return holdings;
    }

    public Locality locality() {
        return locality;
    }

    /** When a job waiting for a better-placed worker stops waiting: call {@link #place} then. */
    public Optional<Instant> nextLocalityDeadline() {
        return deferred.stream()
                .filter(w -> w.worker == null && w.deferUntil != null)
                .map(w -> w.deferUntil)
                .min(Comparator.naturalOrder());
    }

    /** The waits for a better-placed worker begun since the last call, for telling their builds. */
    public List<LocalityWait> localityWaitsBegun() {
        List<LocalityWait> begun = List.copyOf(waitsBegun);
        waitsBegun.clear();
        return begun;
    }

    /** Whether queued work lets a free slot go now to wait for a better-placed worker. */
    public boolean waitingForLocality(String jobId) {
        Work w = byJob.get(jobId);
        return w != null
                && w.worker == null
                && w.deferUntil != null
                && clock.instant().isBefore(w.deferUntil);
    }

    /** Input bytes of {@code w} that worker {@code s} holds: the build's knowledge or the index's. */
    private static long bytes(Work w, Slots s, Map<String, Long> held) {
        return Math.max(w.first.localBytes().applyAsLong(s.name), held.getOrDefault(s.id, 0L));
    }

    /**
     * The delay-scheduling rule (see the class comment): true while {@code w} should leave
     * {@code free} to others and wait for a busy worker holding enough more of its inputs.
     */
    private boolean waitsForBetter(Work w, Slots free, Map<String, Long> held, Instant now) {
        if (locality.maxWait().isZero() || running(w.first.team()) == 0) {
            return false; // a team with nothing running never waits
        }
        long here = bytes(w, free, held);
        Optional<Slots> better = workers.values().stream()
                .filter(s -> s.free() == 0 && !s.draining)
                .filter(s -> s.grants.containsAll(w.first.needs()) && !w.lostOn.contains(s.name))
                .max(Comparator.comparingLong(s -> bytes(w, s, held)));
        long saved = better.map(s -> bytes(w, s, held) - here).orElse(0L);
        Duration wait = locality.waitFor(saved);
        if (wait.isZero()) {
            return false;
        }
        if (w.deferredSince == null) {
            w.deferredSince = now;
            deferred.add(w);
            waitsBegun.add(new LocalityWait(w.wireId, better.get().name, saved, wait, Set.copyOf(w.members)));
        }
        w.deferUntil = w.deferredSince.plus(wait);
        return now.isBefore(w.deferUntil);
    }

    private Optional<Slots> bestWorker(Work w, Map<String, Long> held) {
        return workers.values().stream()
                .filter(s -> s.free() > 0)
                .filter(s -> s.grants.containsAll(w.first.needs()))
                .max(Comparator.<Slots>comparingInt(s -> w.lostOn.contains(s.name) ? 0 : 1)
                        .thenComparingLong(s -> bytes(w, s, held))
                        .thenComparingInt(Slots::free)
                        .thenComparing(s -> s.name, Comparator.reverseOrder())
                        .thenComparing(s -> s.id, Comparator.reverseOrder()));
    }

    private void queue(Work w) {
        queues.computeIfAbsent(w.first.team(), t -> new TreeSet<>(WITHIN_TEAM)).add(w);
    }

    private void unqueue(Work w) {
        deferred.remove(w);
        TreeSet<Work> q = queues.get(w.first.team());
        if (q != null) {
            q.remove(w);
            if (q.isEmpty()) {
                queues.remove(w.first.team());
            }
        }
    }

    private void forget(Work w) {
        deferred.remove(w);
        byKey.remove(w.first.workKey(), w);
        byWire.remove(w.wireId, w);
        w.members.forEach(m -> byJob.remove(m, w));
    }

    private void decrement(String team) {
        running.computeIfPresent(team, (t, n) -> n <= 1 ? null : n - 1);
    }
}
