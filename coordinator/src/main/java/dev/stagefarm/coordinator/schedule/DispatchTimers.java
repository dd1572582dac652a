package dev.stagefarm.coordinator.schedule;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The dispatcher's one timer thread: what it must do later (fail jobs that waited too long for a
 * first worker, place a job whose wait for a better-placed worker ends, queue the jobs held for
 * reconnecting workers). Once closed, nothing more runs: the dispatcher has ended every job.
 */
final class DispatchTimers implements AutoCloseable {

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "job-dispatcher-timer");
        t.setDaemon(true);
        return t;
    });

    /** Runs {@code what} after {@code delay} (at least a millisecond, so that a deadline has passed). */
    void after(Duration delay, Runnable what) {
        try {
            timers.schedule(what, Math.max(1, delay.toMillis() + 1), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // closed: every job has ended anyway
        }
    }

    @Override
    public void close() {
        timers.shutdownNow();
    }
}
