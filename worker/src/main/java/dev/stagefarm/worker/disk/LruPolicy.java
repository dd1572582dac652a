package dev.stagefarm.worker.disk;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which local entries to evict: least recently used first, never one that is pinned (a running
 * job uses it). Pure bookkeeping, no files and no locks: {@link DiskBudget} owns both.
 */
final class LruPolicy {

    /** An entry chosen for eviction, with the bytes that frees. */
    record Victim(String id, long bytes) {}

    /** Sizes in access order: the first is the least recently used. */
    private final LinkedHashMap<String, Long> entries = new LinkedHashMap<>(64, 0.75f, true);

    private final Map<String, Integer> pins = new HashMap<>();
    private long used;

    /** A new entry (or a new size for a known one), now the most recently used. */
    void add(String id, long bytes) {
        Long old = entries.put(id, bytes);
        used += bytes - (old == null ? 0 : old);
    }

    /** Marks {@code id} as just used; unknown ids are ignored. */
    void touch(String id) {
        entries.get(id);
    }

    boolean contains(String id) {
        return entries.containsKey(id);
    }

    /** Pins may precede the entry: a job pins what it is about to look up or create. */
    void pin(String id) {
        pins.merge(id, 1, Integer::sum);
    }

    void unpin(String id) {
        pins.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
    }

    boolean pinned(String id) {
        return pins.containsKey(id);
    }

    long used() {
        return used;
    }

    /**
     * Removes and returns the least recently used unpinned entries until {@code incoming} more
     * bytes fit under {@code budget}, or nothing unpinned is left (then the budget is exceeded by
     * what running jobs hold, which the caller tolerates until they end).
     */
    List<Victim> evict(long budget, long incoming) {
        List<Victim> victims = new ArrayList<>();
        Iterator<Map.Entry<String, Long>> it = entries.entrySet().iterator();
        while (used + incoming > budget && it.hasNext()) {
            Map.Entry<String, Long> e = it.next();
            if (pins.containsKey(e.getKey())) {
                continue;
            }
            it.remove();
            used -= e.getValue();
            victims.add(new Victim(e.getKey(), e.getValue()));
        }
        return victims;
    }
}
