package dev.stagefarm.coordinator.schedule;

import java.time.Duration;

/**
 * How placement weighs what workers already hold (delay scheduling, as Spark's
 * {@code spark.locality.wait}). A job whose best free worker holds fewer of its input bytes than
 * a busy one may wait for the busy one, but only when the bytes it would save take at least
 * {@code minSaving} to fetch at {@code bytesPerSecond}, and at most {@code min(maxWait, that
 * fetch time)}: waiting never costs more than the transfer it avoids. A job whose team has
 * nothing running never waits.
 *
 * @param bytesPerSecond the assumed rate at which a worker fetches and unpacks inputs it lacks
 * @param minSaving the least fetch time saved that is worth a wait
 * @param maxWait the longest a job waits for a better-placed worker; zero turns waiting off
 * @param perWorker entries the index keeps per worker (the oldest reported are forgotten first)
 * @param total entries the index keeps over all workers (the oldest reported are forgotten first)
 */
public record Locality(long bytesPerSecond, Duration minSaving, Duration maxWait, int perWorker, int total) {

    /** 100 MiB/s: a cache-server fetch over a 1 Gbit/s link plus a zstd unpack. */
    public static final long DEFAULT_BYTES_PER_SECOND = 100L << 20;

    /** With the rate above, 100 MiB: a Go toolchain base layer is worth it, a busybox one is not. */
    public static final Duration DEFAULT_MIN_SAVING = Duration.ofSeconds(1);

    /** Spark's {@code spark.locality.wait}. */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(3);

    /** A worker with a 100 GiB disk of 10 MiB entries. */
    public static final int DEFAULT_PER_WORKER = 10_000;

    /** About 40 MB of coordinator memory (each entry: a key of ~80 chars, a size and its links). */
    public static final int DEFAULT_TOTAL = 200_000;

    public static final Locality DEFAULTS = new Locality(
            DEFAULT_BYTES_PER_SECOND, DEFAULT_MIN_SAVING, DEFAULT_MAX_WAIT, DEFAULT_PER_WORKER, DEFAULT_TOTAL);

    public Locality {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("the locality transfer rate must be positive: " + bytesPerSecond);
        }
        if (minSaving.isNegative() || maxWait.isNegative()) {
            throw new IllegalArgumentException("locality durations must not be negative");
        }
        if (perWorker < 1 || total < 1) {
            throw new IllegalArgumentException("the locality index needs room for at least one entry");
        }
    }

    public Locality withWait(Duration maxWait, Duration minSaving) {
        return new Locality(bytesPerSecond, minSaving, maxWait, perWorker, total);
    }

    public Locality withBounds(int perWorker, int total) {
        return new Locality(bytesPerSecond, minSaving, maxWait, perWorker, total);
    }

    public Locality withRate(long bytesPerSecond) {
        return new Locality(bytesPerSecond, minSaving, maxWait, perWorker, total);
    }

    /** How long fetching {@code bytes} takes at the assumed rate. */
    Duration fetchTime(long bytes) {
        return Duration.ofNanos((long) (bytes * 1e9 / bytesPerSecond));
    }

    /**
     * How long a job may wait for a worker that would spare it {@code savedBytes}: zero when the
     * saving is too small to wait for.
     */
    Duration waitFor(long savedBytes) {
        Duration saved = fetchTime(savedBytes);
        if (savedBytes <= 0 || saved.compareTo(minSaving) < 0) {
            return Duration.ZERO;
        }
        return saved.compareTo(maxWait) < 0 ? saved : maxWait;
    }
}
