package dev.stagefarm.worker.disk;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which local entries to evict: the least recently used entry of the team that holds the most
 * bytes, never one that is pinned (a running job uses it). Within one team this is plain LRU;
 * between teams it is fair, so that a team filling the worker's disk evicts its own entries
 * before anyone else's, and a team with little on the disk keeps it (a shared farm's worker
 * serves every team from one {@code --max-local-size}). Pure bookkeeping, no files and no
 * locks: {@link DiskBudget} owns both.
 */
final class LruPolicy {

    /** An entry chosen for eviction, with the bytes that frees and the team it counted against. */
    record Victim(String id, long bytes, String team) {
        Victim(String id, long bytes) {
            this(id, bytes, "");
        }
    }

    /** The team that added an entry first: its bytes count against that team. */
    private final Map<String, String> owners = new HashMap<>();

    /** Per team, sizes in access order: the first is the team's least recently used. */
    private final Map<String, LinkedHashMap<String, Long>> byTeam = new HashMap<>();

    private final Map<String, Long> teamUsed = new HashMap<>();
    private final Map<String, Integer> pins = new HashMap<>();
    private long used;

    /** A new entry with no team (outside any job). */
    void add(String id, long bytes) {
        add(id, bytes, "");
    }

    /** A new entry (or a new size for a known one), now the most recently used of its team. */
    void add(String id, long bytes, String team) {
        String owner = owners.computeIfAbsent(id, k -> team);
        Long old = byTeam.computeIfAbsent(owner, t -> new LinkedHashMap<>(16, 0.75f, true))
                .put(id, bytes);
        long delta = bytes - (old == null ? 0 : old);
        used += delta;
        teamUsed.merge(owner, delta, Long::sum);
    }

    /** Marks {@code id} as just used; unknown ids are ignored. */
    void touch(String id) {
        String owner = owners.get(id);
        if (owner != null) {
            byTeam.get(owner).get(id);
        }
    }

    boolean contains(String id) {
        return owners.containsKey(id);
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

    /** The bytes each team's entries take ("" for entries added outside a job). */
    Map<String, Long> usedByTeam() {
        return Map.copyOf(teamUsed);
    }

    /**
     * Removes and returns entries until {@code incoming} more bytes fit under {@code budget},
     * each time the least recently used unpinned entry of the team holding the most bytes, or
     * until nothing unpinned is left (then the budget is exceeded by what running jobs hold,
     * which the caller tolerates until they end).
     */
    List<Victim> evict(long budget, long incoming) {
        List<Victim> victims = new ArrayList<>();
        while (used + incoming > budget) {
            Optional<Victim> next = nextVictim();
            if (next.isEmpty()) {
                break;
            }
            remove(next.get().id());
            victims.add(next.get());
        }
        return victims;
    }

    private Optional<Victim> nextVictim() {
        List<String> largestFirst = new ArrayList<>(teamUsed.keySet());
        largestFirst.sort(Comparator.comparing((String t) -> teamUsed.get(t))
                .reversed()
                .thenComparing(Comparator.naturalOrder()));
        for (String team : largestFirst) {
            for (Map.Entry<String, Long> e : byTeam.get(team).entrySet()) {
                if (!pins.containsKey(e.getKey())) {
                    return Optional.of(new Victim(e.getKey(), e.getValue(), team));
                }
            }
        }
        return Optional.empty();
    }

    private void remove(String id) {
        String owner = owners.remove(id);
        LinkedHashMap<String, Long> entries = byTeam.get(owner);
        long bytes = entries.remove(id);
        used -= bytes;
        teamUsed.merge(owner, -bytes, Long::sum);
        if (entries.isEmpty()) {
            byTeam.remove(owner);
            teamUsed.remove(owner);
        }
    }
}
