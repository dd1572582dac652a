package dev.stagefarm.coordinator.schedule;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each worker holds on its disk, per team, as the workers report it: base-image layers
 * ({@code sha256:…}, the blob), unpacked snapshots ({@code snapshot:KEY}: a layer's
 * {@code layer:sha256:…} or a step's cache key), artifacts ({@code sha256:…}) and build contexts
 * ({@code context:sha256:…}), each with its size. A worker's content serves only the team it
 * was fetched or made for: a lookup for team B never sees what a worker holds for team A.
 *
 * <p>Bounded: at most {@link Locality#perWorker()} entries per worker and {@link
 * Locality#total()} in all; beyond that the entry reported longest ago is forgotten first (a
 * worker's LRU evicts old content first too, so those are the likeliest to be gone anyway).
 * Forgetting only costs a placement that is less well informed. Pure bookkeeping, not
 * thread-safe: the {@link Scheduler}'s owner calls it under its lock.
 */
public final class LocalityIndex {

    private record Entry(String worker, String team, String key) {}

    private final int perWorkerBound;
    private final int totalBound;
    /** team → key → worker → size. */
    private final Map<String, Map<String, Map<String, Long>>> byTeam = new HashMap<>();
    /** Every entry, the one reported longest ago first. */
    private final LinkedHashMap<Entry, Boolean> all = new LinkedHashMap<>();
    /** Each worker's entries, the one reported longest ago first. */
    private final Map<String, LinkedHashMap<Entry, Boolean>> byWorker = new HashMap<>();

    public LocalityIndex(int perWorker, int total) {
        this.perWorkerBound = perWorker;
        this.totalBound = total;
    }

    public LocalityIndex(Locality bounds) {
        this(bounds.perWorker(), bounds.total());
    }

    /** A worker holds {@code key} for {@code team}: newly, or again (it counts as just reported). */
    public void held(String worker, String team, String key, long size) {
        Entry e = new Entry(worker, team, key);
        remove(e);
        byTeam.computeIfAbsent(team, t -> new HashMap<>())
                .computeIfAbsent(key, k -> new HashMap<>(4))
                .put(worker, Math.max(0, size));
        all.put(e, Boolean.TRUE);
        LinkedHashMap<Entry, Boolean> mine = byWorker.computeIfAbsent(worker, w -> new LinkedHashMap<>());
        mine.put(e, Boolean.TRUE);
        if (mine.size() > perWorkerBound) {
            remove(mine.keySet().iterator().next());
        }
        if (all.size() > totalBound) {
            remove(all.keySet().iterator().next());
        }
    }

    /** A worker evicted {@code key} (or no longer holds it for {@code team}). */
    public void evicted(String worker, String team, String key) {
        remove(new Entry(worker, team, key));
    }

    /** Forgets all a worker held: it went away, or it is about to report its full set again. */
    public void forgetWorker(String worker) {
        LinkedHashMap<Entry, Boolean> mine = byWorker.get(worker);
        if (mine == null) {
            return;
        }
        for (Entry e : List.copyOf(mine.keySet())) {
            remove(e);
        }
    }

    /** Entries kept in all. */
    public int size() {
        return all.size();
    }

    /** Entries kept for one worker. */
    public int size(String worker) {
        LinkedHashMap<Entry, Boolean> mine = byWorker.get(worker);
        return mine == null ? 0 : mine.size();
    }

    /** Whether a worker holds {@code key} for {@code team}, as far as the index remembers. */
    public boolean holds(String worker, String team, String key) {
        return all.containsKey(new Entry(worker, team, key));
    }

    /**
     * The bytes of {@code inputs} each worker holds for {@code team}; workers holding none are
     * absent. An input counts once per worker, whichever of its keys the worker holds. Costs one
     * lookup per key, not per worker, so it stays cheap on a large farm.
     */
    public Map<String, Long> bytesByWorker(String team, List<JobInput> inputs) {
        Map<String, Map<String, Long>> keys = byTeam.get(team);
        if (keys == null || inputs.isEmpty()) {
            return Map.of();
        }
        Map<String, Long> total = new HashMap<>();
        Map<String, Long> input = new HashMap<>();
        for (JobInput in : inputs) {
            input.clear();
            for (String key : in.keys()) {
                Map<String, Long> holders = keys.get(key);
                if (holders == null) {
                    continue;
                }
                holders.forEach((worker, size) -> input.merge(worker, in.bytes() > 0 ? in.bytes() : size, Math::max));
            }
            input.forEach((worker, bytes) -> total.merge(worker, bytes, Long::sum));
        }
        return total;
    }

    private void remove(Entry e) {
        if (all.remove(e) == null) {
            return;
        }
        LinkedHashMap<Entry, Boolean> mine = byWorker.get(e.worker());
        if (mine != null) {
            mine.remove(e);
            if (mine.isEmpty()) {
                byWorker.remove(e.worker());
            }
        }
        Map<String, Map<String, Long>> keys = byTeam.get(e.team());
        if (keys != null) {
            Map<String, Long> holders = keys.get(e.key());
            if (holders != null) {
                holders.remove(e.worker());
                if (holders.isEmpty()) {
                    keys.remove(e.key());
                }
            }
            if (keys.isEmpty()) {
                byTeam.remove(e.team());
            }
        }
    }
}
