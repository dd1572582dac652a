package dev.stagefarm.cacheclient;

import io.grpc.Status;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rides out a cache-server that is away for a while (a restart, a rescheduled pod): a call that
 * finds it unreachable (UNAVAILABLE, and only that: every other answer is the server's word) is
 * made again after an exponential backoff with jitter, for at most {@link #BUDGET} in all. A
 * whole operation is retried, not one message: an upload starts again from what the cache holds
 * (FindMissing, then QueryWrite's resume), a download from its first byte into a fresh temporary file.
 */
final class Retry {

    private static final Logger log = LoggerFactory.getLogger(Retry.class);

    /** How long a call keeps trying: a 30 s restart and the channel's reconnect backoff fit in it. */
    static final Duration BUDGET = Duration.ofSeconds(45);

    private static final Duration FIRST = Duration.ofMillis(250);
    private static final Duration LONGEST = Duration.ofSeconds(4);

    /** One attempt at an operation. */
    interface Call<T> {
        T call() throws IOException;
    }

    /** Set while an operation retries: the calls it makes inside try once each, so the bound holds. */
    private static final ThreadLocal<Boolean> RETRYING = ThreadLocal.withInitial(() -> false);

    private Retry() {}

    /**
     * @param reconnect makes the channel try to connect at once: after a long outage its own
     *                  reconnect backoff (up to two minutes) would outlast the server's return
     */
    static <T> T whileUnavailable(String target, Runnable reconnect, Call<T> call) throws IOException {
        return whileUnavailable(target, reconnect, BUDGET, call);
    }

    static <T> T whileUnavailable(String target, Runnable reconnect, Duration budget, Call<T> call) throws IOException {
        if (RETRYING.get()) {
            return call.call();
        }
        RETRYING.set(true);
        try {
            return retry(target, reconnect, budget, call);
        } finally {
            RETRYING.set(false);
        }
    }

    private static <T> T retry(String target, Runnable reconnect, Duration budget, Call<T> call) throws IOException {
        long giveUpAt = System.nanoTime() + budget.toNanos();
        long backoff = FIRST.toMillis();
        for (int attempt = 1; ; attempt++) {
            try {
                return call.call();
            } catch (CacheException e) {
                long leftNanos = giveUpAt - System.nanoTime();
                if (e.code() != Status.Code.UNAVAILABLE || leftNanos <= 0) {
                    throw e;
                }
                // rounded up: a wait cut to whole milliseconds must not end the budget early
                long left = (leftNanos + 999_999) / 1_000_000;
                // equal jitter: at least half the backoff, so the total keeps its bound and its floor
                long sleep =
                        Math.min(left, backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
                if (attempt == 1) {
                    log.warn(
                            "cache-server {} unreachable; trying again for up to {} s: {}",
                            target,
                            budget.toSeconds(),
                            e.getMessage());
                }
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for cache-server " + target);
                }
                backoff = Math.min(LONGEST.toMillis(), backoff * 2);
                reconnect.run();
            }
        }
    }
}
