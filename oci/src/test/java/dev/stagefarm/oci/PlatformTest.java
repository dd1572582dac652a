package dev.stagefarm.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PlatformTest {

    @Test
    void matchesLikeDockerPicksFromAnIndex() {
        assertThat(Platform.LINUX_AMD64.accepts(Platform.parse("linux/amd64"))).isTrue();
        assertThat(Platform.LINUX_AMD64.accepts(Platform.parse("linux/arm64/v8")))
                .isFalse();
        assertThat(Platform.parse("linux/arm64").accepts(Platform.parse("linux/arm64/v8")))
                .isTrue();
        assertThat(Platform.parse("linux/arm64/v8").accepts(Platform.parse("linux/arm64")))
                .isTrue();
        assertThat(Platform.parse("linux/arm/v7").accepts(Platform.parse("linux/arm/v6")))
                .isFalse();
        assertThat(Platform.parse("linux/arm/v7")).hasToString("linux/arm/v7");
        assertThatThrownBy(() -> Platform.parse("linux")).hasMessageContaining("os/arch");
    }
}
