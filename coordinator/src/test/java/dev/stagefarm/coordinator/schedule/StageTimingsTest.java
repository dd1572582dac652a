package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** What the coordinator remembers of step durations, on a clock the test moves. */
class StageTimingsTest {

    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final InstantSource clock = () -> now;

    @Test
    void aRecordedStepWeighsWhatItTookAndAnUnknownOneASecond() {
        StageTimings timings = new StageTimings(clock);

        timings.record("a", "compile", Duration.ofSeconds(42));
        timings.record("a", "compile", Duration.ofSeconds(40)); // the last run counts

        assertThat(timings.weightMillis("a", "compile")).isEqualTo(40_000);
        assertThat(timings.weightMillis("a", "test")).isEqualTo(1_000);
        assertThat(timings.millis("b", "compile")).as("another team's step").isEmpty();
    }

    @Test
    void aStepRecordedMoreThanADayAgoIsForgotten() {
        StageTimings timings = new StageTimings(clock);
        timings.record("a", "compile", Duration.ofSeconds(42));

        now = now.plus(Duration.ofDays(1));
        assertThat(timings.millis("a", "compile")).isEqualTo(OptionalLong.of(42_000));

        now = now.plusMillis(1);
        assertThat(timings.millis("a", "compile")).isEmpty();
        assertThat(timings.weightMillis("a", "compile")).isEqualTo(1_000);
        assertThat(timings.size()).isZero();
    }

    @Test
    void beyondItsBoundTheStepUsedLongestAgoIsForgotten() {
        StageTimings timings = new StageTimings(clock, 2, Duration.ofDays(1));
        timings.record("a", "one", Duration.ofMillis(1));
        timings.record("a", "two", Duration.ofMillis(2));
        timings.millis("a", "one"); // a build just looked it up

        timings.record("a", "three", Duration.ofMillis(3));

        assertThat(timings.size()).isEqualTo(2);
        assertThat(timings.millis("a", "one")).hasValue(1);
        assertThat(timings.millis("a", "two")).isEmpty();
        assertThat(timings.millis("a", "three")).hasValue(3);
    }
}
