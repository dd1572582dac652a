package dev.stagefarm.cacheclient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class UnitsTest {

    @Test
    void sizesAreReadLikeDockerDoesWithBinaryUnits() {
        assertThat(Units.parseSize("20GB")).isEqualTo(20L << 30);
        assertThat(Units.parseSize("512MiB")).isEqualTo(512L << 20);
        assertThat(Units.parseSize("1.5g")).isEqualTo(3L << 29);
        assertThat(Units.parseSize("4096")).isEqualTo(4096);
        assertThat(Units.parseSize("10 kb")).isEqualTo(10240);
        assertThat(Units.parseSize("2T")).isEqualTo(2L << 40);
    }

    @Test
    void aBadSizeSaysWhatToWrite() {
        assertThatThrownBy(() -> Units.parseSize("20 gigs"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'20 gigs' is not a size")
                .hasMessageContaining("512MiB");
        assertThatThrownBy(() -> Units.parseSize("-1GB")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Units.parseSize("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void durationsAreReadLikeGoDoes() {
        assertThat(Units.parseDuration("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(Units.parseDuration("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Units.parseDuration("45s")).isEqualTo(Duration.ofSeconds(45));
        assertThat(Units.parseDuration("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Units.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void aBadDurationSaysWhatToWrite() {
        assertThatThrownBy(() -> Units.parseDuration("24"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid duration \"24\"")
                .hasMessageContaining("1m30s");
        assertThatThrownBy(() -> Units.parseDuration("-1h"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> Units.parseDuration("1d")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Units.parseDuration("h")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sizesPrintInTheLargestFittingUnit() {
        assertThat(Units.formatSize(300)).isEqualTo("300 B");
        assertThat(Units.formatSize(3L << 29)).isEqualTo("1.5 GiB");
    }
}
