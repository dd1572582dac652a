package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CriticalPathsTest {

    /** 0 → 1 → 3 and 0 → 2 → 3 (3 the target), 4 → 3. */
    private static final Map<Integer, Set<Integer>> DEPS =
            Map.of(0, Set.of(), 1, Set.of(0), 2, Set.of(0), 4, Set.of(), 3, Set.of(1, 2, 4));

    @Test
    void aStageCountsTheHeaviestChainFromItToTheTarget() {
        Map<Integer, Long> weights = Map.of(0, 10L, 1, 100L, 2, 5L, 3, 1L, 4, 50L);

        Map<Integer, Long> paths = CriticalPaths.weighted(List.of(0, 1, 2, 4, 3), DEPS::get, weights::get);

        assertThat(paths)
                .containsEntry(3, 1L)
                .containsEntry(1, 101L)
                .containsEntry(2, 6L)
                .containsEntry(4, 51L)
                .containsEntry(0, 111L);
    }

    @Test
    void withEveryStageWeighingOneItIsTheChainLength() {
        Map<Integer, Long> paths = CriticalPaths.weighted(List.of(0, 1, 2, 4, 3), DEPS::get, stage -> 1);

        assertThat(paths)
                .containsEntry(0, 3L)
                .containsEntry(1, 2L)
                .containsEntry(4, 2L)
                .containsEntry(3, 1L);
    }
}
