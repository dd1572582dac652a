package dev.stagefarm.bench.sim;

import java.time.Instant;
import java.time.InstantSource;

/** The simulation's time: it moves only when the event loop moves it, in nanoseconds from an epoch. */
final class SimClock implements InstantSource {

    private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");

    private long nanos;

    @Override
    public Instant instant() {
        return EPOCH.plusNanos(nanos);
    }

    long nanos() {
        return nanos;
    }

    void advanceTo(long to) {
        if (to < nanos) {
            throw new IllegalStateException("time runs backwards: " + to + " < " + nanos);
        }
        nanos = to;
    }

    static Instant at(long nanos) {
        return EPOCH.plusNanos(nanos);
    }
}
