package dev.stagefarm.worker.baseimage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The limits a worker is started with are checked once, with a sentence naming the flag. */
class LayerLimitsTest {

    @Test
    void theDefaultsAreThoseTheFlagsDocument() {
        assertThat(LayerLimits.DEFAULTS).isEqualTo(new LayerLimits(8L << 30, 32L << 30, 32L << 30, 2_000_000, 100));
    }

    @Test
    void aLimitOfZeroOrLessNamesItsFlag() {
        assertThatThrownBy(() -> new LayerLimits(1, 1, 1, 0, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--max-layer-entries must be above 0, not 0");
        assertThatThrownBy(() -> new LayerLimits(1, 1, 1, 1, -5))
                .hasMessage("--max-layer-ratio must be above 0, not -5");
    }

    @Test
    void aLayerLimitAboveTheImageLimitIsRefused() {
        assertThatThrownBy(() -> new LayerLimits(2048, 1024, 1, 1, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--max-layer-size (2048 bytes) is above --max-image-size (1024 bytes)");
    }
}
