package dev.stagefarm.coordinator.schedule;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/** The longest chain of stages from each stage to a build's target, in stages: the queue runs long chains first. */
public final class CriticalPaths {

    private CriticalPaths() {}

    /**
     * @param stages a build's stages, each after the stages it depends on (its target last)
     * @param dependencies the stages a stage waits for
     * @return per stage, the number of stages on the longest chain from it to the target, itself included
     */
    public static Map<Integer, Integer> of(List<Integer> stages, IntFunction<Set<Integer>> dependencies) {
        Map<Integer, Integer> chain = new HashMap<>();
        for (int i = stages.size() - 1; i >= 0; i--) {
            chain.putIfAbsent(stages.get(i), 1);
            int length = chain.get(stages.get(i));
            for (int dep : dependencies.apply(stages.get(i))) {
                chain.merge(dep, length + 1, Math::max);
            }
        }
        return chain;
    }
}
