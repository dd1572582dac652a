package dev.stagefarm.coordinator.schedule;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;

/**
 * The longest chain of work from each stage to a build's target: the queue runs long chains
 * first, since nothing can finish the build sooner than its longest chain.
 */
public final class CriticalPaths {

    private CriticalPaths() {}

    /**
     * @param stages a build's stages, each after the stages it depends on (its target last)
     * @param dependencies the stages a stage waits for
     * @param weight what a stage costs (its steps' recorded durations, in milliseconds)
     * @return per stage, the largest sum of weights on a chain from it to the target, itself included
     */
    public static Map<Integer, Long> weighted(
            List<Integer> stages, IntFunction<Set<Integer>> dependencies, IntToLongFunction weight) {
        Map<Integer, Long> after = new HashMap<>(); // the heaviest chain from a stage's dependents on
        Map<Integer, Long> chain = new HashMap<>();
        for (int i = stages.size() - 1; i >= 0; i--) {
            int stage = stages.get(i);
            long length = weight.applyAsLong(stage) + after.getOrDefault(stage, 0L);
            chain.put(stage, length);
            for (int dep : dependencies.apply(stage)) {
                after.merge(dep, length, Math::max);
            }
        }
        return chain;
    }
}
