package dev.stagefarm.coordinator.schedule;

import java.util.LinkedHashSet;
import java.util.Set;

/** A worker's slots and what runs in them, as the {@link Scheduler} keeps them. */
final class Slots {
    final String id;
    final String name;
    final int slots;
    final Set<String> grants;
    final Set<Work> running = new LinkedHashSet<>();
    boolean draining;

    Slots(String id, String name, int slots, Set<String> grants) {
        this.id = id;
        this.name = name;
        this.slots = Math.max(1, slots);
        this.grants = Set.copyOf(grants);
    }

    int free() {
        return draining ? 0 : Math.max(0, slots - running.size());
    }
}
