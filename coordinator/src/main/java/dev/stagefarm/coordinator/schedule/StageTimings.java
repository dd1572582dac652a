package dev.stagefarm.coordinator.schedule;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * How long each step took when it last ran, per team, so that the queue can put a build's
 * longest chain of work first ({@link CriticalPaths#weighted}). A step is named by its caller
 * (the coordinator: a digest of the instruction and those before it in its stage), so that "the
 * same step" is recognised across builds whose cache keys differ.
 *
 * <p>In memory only, bounded: at most {@code maxEntries} (least recently used forgotten first),
 * and an entry recorded longer ago than {@code keepFor} counts as unknown. An unknown step weighs
 * {@link #UNKNOWN_STEP}, so a graph never seen orders by its number of steps. Forgetting only
 * costs an order that is less well informed. Thread-safe: builds record and read it at once.
 */
public final class StageTimings {

    /** What a step never seen (or forgotten) weighs. */
    public static final Duration UNKNOWN_STEP = Duration.ofSeconds(1);

    public static final int DEFAULT_ENTRIES = 10_000;
    public static final Duration DEFAULT_KEEP = Duration.ofDays(1);

    private record Key(String team, String step) {}

    private record Timing(long millis, Instant recorded) {}

    private final InstantSource clock;
    private final Duration keepFor;
    private final LinkedHashMap<Key, Timing> entries;

    public StageTimings(InstantSource clock, int maxEntries, Duration keepFor) {
        this.clock = clock;
        this.keepFor = keepFor;
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Timing> eldest) {
                return size() > maxEntries;
            }
        };
    }

    /** At most {@value #DEFAULT_ENTRIES} steps, each kept a day. */
    public StageTimings(InstantSource clock) {
        this(clock, DEFAULT_ENTRIES, DEFAULT_KEEP);
    }

    /** {@code team}'s step {@code step} just ran, in {@code took}; it replaces what was known of it. */
    public synchronized void record(String team, String step, Duration took) {
        entries.put(new Key(team, step), new Timing(Math.max(0, took.toMillis()), clock.instant()));
    }

    /** How long the step took when it last ran, unless that is unknown or too long ago. */
    public synchronized OptionalLong millis(String team, String step) {
        Key key = new Key(team, step);
        Timing t = entries.get(key);
        if (t == null) {
            return OptionalLong.empty();
        }
        if (t.recorded().plus(keepFor).isBefore(clock.instant())) {
            entries.remove(key);
            return OptionalLong.empty();
        }
        return OptionalLong.of(t.millis());
    }

    /** What the step weighs on a critical path: its recorded duration, or {@link #UNKNOWN_STEP}. */
    public long weightMillis(String team, String step) {
        return millis(team, step).orElse(UNKNOWN_STEP.toMillis());
    }

    /** Steps kept, including those too old that no lookup has dropped yet. */
    public synchronized int size() {
        return entries.size();
    }
}
