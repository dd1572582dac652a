package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.InvalidValueException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SourceDateEpochTest {

    @Test
    void theBuildArgWinsOverAGlobalArgDefault() throws Exception {
        assertThat(SourceDateEpoch.of(Optional.of("0"), Map.of("SOURCE_DATE_EPOCH", "5")))
                .as("0 is an epoch like any other")
                .contains(Instant.EPOCH);
        assertThat(SourceDateEpoch.of(Optional.empty(), Map.of("SOURCE_DATE_EPOCH", "5")))
                .contains(Instant.ofEpochSecond(5));
    }

    @Test
    void unsetOrEmptyMeansNone() throws Exception {
        assertThat(SourceDateEpoch.of(Optional.empty(), Map.of())).isEmpty();
        assertThat(SourceDateEpoch.of(Optional.of(""), Map.of("SOURCE_DATE_EPOCH", "")))
                .isEmpty();
    }

    @Test
    void aValueThatIsNoWholeNumberOfSecondsIsRefused() {
        assertThatThrownBy(() -> SourceDateEpoch.of(Optional.of("2023-11-14"), Map.of()))
                .isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("invalid SOURCE_DATE_EPOCH \"2023-11-14\"");
    }
}
