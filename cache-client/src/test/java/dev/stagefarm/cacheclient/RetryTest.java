package dev.stagefarm.cacheclient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A cache-server away for a while: calls are made again while it is unreachable, never longer than the budget. */
class RetryTest {

    private static CacheException unavailable() {
        return new CacheException("cache-server x is unreachable", Status.Code.UNAVAILABLE, null);
    }

    @Test
    void anUnreachableServerIsTriedAgainUntilItAnswersAndTheChannelReconnectsEachTime() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        AtomicInteger reconnects = new AtomicInteger();
        String answer = Retry.whileUnavailable("x", reconnects::incrementAndGet, Duration.ofSeconds(10), () -> {
            if (attempts.incrementAndGet() < 4) {
                throw unavailable();
            }
            return "answer";
        });
        assertThat(answer).isEqualTo("answer");
        assertThat(attempts).hasValue(4);
        assertThat(reconnects).hasValue(3);
    }

    @Test
    void anyOtherAnswerIsTheServersWordAndIsNotAskedAgain() {
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> Retry.whileUnavailable("x", () -> {}, Duration.ofSeconds(10), () -> {
                    attempts.incrementAndGet();
                    throw new CacheException("refused", Status.Code.PERMISSION_DENIED, null);
                }))
                .isInstanceOf(CacheException.class)
                .hasMessage("refused");
        assertThat(attempts).hasValue(1);
    }

    @Test
    void aServerThatStaysAwayFailsTheCallOnceTheBudgetIsSpentWithBackoffBetweenAttempts() {
        AtomicInteger attempts = new AtomicInteger();
        long start = System.nanoTime();
        assertThatThrownBy(() -> Retry.whileUnavailable("x", () -> {}, Duration.ofMillis(1500), () -> {
                    attempts.incrementAndGet();
                    throw unavailable();
                }))
                .isInstanceOf(CacheException.class);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // never less than the budget; more only by how late a loaded machine wakes a sleeper
        assertThat(took).isBetween(Duration.ofMillis(1500), Duration.ofMillis(10_000));
        // 125+ ms, 250+, 500+, 1000+ (capped by what is left): a handful, not a busy loop
        assertThat(attempts.get()).isBetween(2, 6);
    }

    @Test
    void callsMadeInsideARetriedOperationTryOnceSoTheBoundHolds() {
        AtomicInteger inner = new AtomicInteger();
        assertThatThrownBy(() -> Retry.whileUnavailable(
                        "x",
                        () -> {},
                        Duration.ofMillis(600),
                        () -> Retry.whileUnavailable("x", () -> {}, Duration.ofSeconds(30), () -> {
                            inner.incrementAndGet();
                            throw unavailable();
                        })))
                .isInstanceOf(CacheException.class);
        assertThat(inner.get()).isBetween(2, 5);
    }

    @Test
    void anInterruptedWaitEndsTheCallAtOnce() {
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> Retry.whileUnavailable("x", () -> {}, Duration.ofSeconds(30), () -> {
                    throw unavailable();
                }))
                .isInstanceOf(InterruptedIOException.class);
        assertThat(Thread.interrupted()).isTrue();
    }
}
