package dev.stagefarm.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Go's time.ParseDuration grammar: the one used for every duration a user writes. */
class GoDurationTest {

    @Test
    void readsWhatGoReads() throws Exception {
        assertThat(GoDuration.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(GoDuration.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(GoDuration.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GoDuration.parse(".5s")).isEqualTo(Duration.ofMillis(500));
        assertThat(GoDuration.parse("1.s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(GoDuration.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(GoDuration.parse("10us")).isEqualTo(Duration.ofNanos(10_000));
        assertThat(GoDuration.parse("10µs")).isEqualTo(Duration.ofNanos(10_000));
        assertThat(GoDuration.parse("7ns")).isEqualTo(Duration.ofNanos(7));
        assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("-1h")).isEqualTo(Duration.ofHours(-1));
        assertThat(GoDuration.parse("+2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(GoDuration.parse("1h1m1s1ms")).isEqualTo(Duration.ofMillis(3_661_001));
    }

    @Test
    void refusesWhatGoRefusesAndSaysHowToWriteIt() {
        for (String bad : new String[] {"", "24", "1d", "h", "1 h", "1h ", ".s", "1e3s", "--1s", "soon"}) {
            assertThatThrownBy(() -> GoDuration.parse(bad))
                    .as(bad)
                    .isInstanceOf(GoDuration.InvalidDurationException.class)
                    .hasMessageStartingWith("invalid duration \"" + bad + "\": write a number with a unit");
        }
        assertThatThrownBy(() -> GoDuration.parse("3000000h")).hasMessageContaining("2562047h");
    }
}
