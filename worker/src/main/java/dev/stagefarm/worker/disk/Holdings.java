package dev.stagefarm.worker.disk;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What this worker holds, as the coordinator's locality index wants it: content keys ({@code
 * sha256:…}, {@code snapshot:layer:sha256:…}, {@code context:sha256:…}) per team, with sizes,
 * and what changed since the last report. An entry of the {@link DiskBudget} (a blob, a
 * snapshot, an artifact, a context) counts for each team whose job fetched, made or looked it
 * up here; one key backed by two entries (an artifact's blob and its unpacked directory) stays
 * held until both are evicted. Entries no job has touched since the worker started (left by an
 * earlier run) belong to no team yet and are not reported.
 */
public final class Holdings {

    /** One thing held for one team. */
    public record Item(String team, String key, long size) {}

    /** What changed since the last {@link #drain}: reported, then forgotten here. */
    public record Changes(List<Item> added, List<Item> evicted) {
        public boolean isEmpty() {
            return added.isEmpty() && evicted.isEmpty();
        }
    }

    private record TeamKey(String team, String key) {}

    private static final class Entry {
        final Set<String> keys = new LinkedHashSet<>();
        final Set<String> teams = new HashSet<>();
        long bytes;
    }

    /** How many entries back a team's key, and its size. */
    private static final class Backing {
        int entries;
        long size;
    }

    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<TeamKey, Backing> held = new HashMap<>();
    private final Map<TeamKey, Long> pendingAdded = new LinkedHashMap<>();
    private final Set<TeamKey> pendingEvicted = new LinkedHashSet<>();

    /**
     * Entry {@code id} holds {@code keys} ({@code bytes} on disk, or less than 0 to keep the size
     * known), now also for {@code team} when that is not null.
     */
    public synchronized void held(String id, Collection<String> keys, long bytes, String team) {
        Entry e = entries.computeIfAbsent(id, k -> new Entry());
        if (bytes >= 0) {
            e.bytes = bytes;
        }
        List<String> newKeys = new ArrayList<>();
        for (String k : keys) {
            if (e.keys.add(k)) {
                newKeys.add(k);
            }
        }
        for (String t : e.teams) {
            newKeys.forEach(k -> back(t, k, e.bytes));
        }
        if (team != null && e.teams.add(team)) {
            e.keys.forEach(k -> back(team, k, e.bytes));
        }
    }

    /** A known entry was used by {@code team}'s job; unknown entries are ignored. */
    public synchronized void used(String id, String team) {
        if (team != null && entries.containsKey(id)) {
            held(id, List.of(), -1, team);
        }
    }

    /** Entry {@code id} is gone from the disk. */
    public synchronized void evicted(String id) {
        Entry e = entries.remove(id);
        if (e == null) {
            return;
        }
        for (String t : e.teams) {
            for (String k : e.keys) {
                TeamKey tk = new TeamKey(t, k);
                Backing b = held.get(tk);
                if (b != null && --b.entries == 0) {
                    held.remove(tk);
                    pendingAdded.remove(tk);
                    pendingEvicted.add(tk);
                }
            }
        }
    }

    /** Everything held now, for a new session; changes so far are included, so they are dropped. */
    public synchronized List<Item> full() {
        pendingAdded.clear();
        pendingEvicted.clear();
        List<Item> all = new ArrayList<>(held.size());
        held.forEach((tk, b) -> all.add(new Item(tk.team(), tk.key(), b.size)));
        return all;
    }

    /** Up to {@code max} changes since the last call (evictions first), removed from the pending ones. */
    public synchronized Changes drain(int max) {
        List<Item> evicted = new ArrayList<>();
        for (Iterator<TeamKey> it = pendingEvicted.iterator(); it.hasNext() && evicted.size() < max; ) {
            TeamKey tk = it.next();
            it.remove();
            evicted.add(new Item(tk.team(), tk.key(), 0));
        }
        List<Item> added = new ArrayList<>();
        for (Iterator<Map.Entry<TeamKey, Long>> it = pendingAdded.entrySet().iterator();
                it.hasNext() && evicted.size() + added.size() < max; ) {
            Map.Entry<TeamKey, Long> e = it.next();
            it.remove();
            added.add(new Item(e.getKey().team(), e.getKey().key(), e.getValue()));
        }
        return new Changes(added, evicted);
    }

    /** Team-and-key pairs held now. */
    public synchronized int size() {
        return held.size();
    }

    private void back(String team, String key, long size) {
        TeamKey tk = new TeamKey(team, key);
        Backing b = held.computeIfAbsent(tk, k -> new Backing());
        b.entries++;
        b.size = size;
        pendingEvicted.remove(tk);
        pendingAdded.put(tk, size);
    }
}
