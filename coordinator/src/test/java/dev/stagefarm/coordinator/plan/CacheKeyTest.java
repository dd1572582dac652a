package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class CacheKeyTest {

    @Test
    void partsAreLengthPrefixedSoBoundariesMatter() {
        assertThat(CacheKey.of("run").add("ab").add("c").build())
                .isNotEqualTo(CacheKey.of("run").add("a").add("bc").build());
        assertThat(CacheKey.of("run").add(List.of("echo a", "b")).build())
                .isNotEqualTo(CacheKey.of("run").add(List.of("echo", "a b")).build());
    }

    @Test
    void theSamePartsGiveTheSameKey() {
        assertThat(CacheKey.of("copy").add("go.mod").add(true).build())
                .isEqualTo(CacheKey.of("copy").add("go.mod").add(true).build())
                .matches("sha256:[0-9a-f]{64}");
    }

    @Test
    void theKindIsPartOfTheKey() {
        assertThat(CacheKey.of("copy").add("x").build())
                .isNotEqualTo(CacheKey.of("add").add("x").build());
    }

    @Test
    void anEmptyPartIsNotTheSameAsNoPart() {
        assertThat(CacheKey.of("run").add("").build())
                .isNotEqualTo(CacheKey.of("run").build());
    }
}
