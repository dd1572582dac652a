package dev.stagefarm.bench.sim;

import dev.stagefarm.coordinator.schedule.CriticalPaths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntToLongFunction;

/**
 * A build's stage graph with recorded costs. Stages come each after the ones it depends on, the
 * target last, as the coordinator's stage graph lists them.
 */
record Graph(String name, List<Stage> stages) {

    Graph {
        stages = List.copyOf(stages);
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            if (s.index() != i) {
                throw new IllegalArgumentException(name + ": stage " + s.name() + " is listed at " + i);
            }
            for (int d : s.deps()) {
                if (d >= i) {
                    throw new IllegalArgumentException(name + ": stage " + s.name() + " depends on a later stage " + d);
                }
            }
        }
    }

    Stage stage(int index) {
        return stages.get(index);
    }

    int size() {
        return stages.size();
    }

    /** Per stage, the stages waiting for it. */
    List<List<Integer>> dependents() {
        List<List<Integer>> out = new ArrayList<>();
        stages.forEach(s -> out.add(new ArrayList<>()));
        stages.forEach(s -> s.deps().forEach(d -> out.get(d).add(s.index())));
        return out;
    }

    /**
     * What the coordinator gives each job as its place in the build: the longest chain of work
     * from it, each stage weighing what {@code weight} says (its steps' recorded durations, in ms).
     */
    Map<Integer, Long> criticalPaths(IntToLongFunction weight) {
        List<Integer> order = stages.stream().map(Stage::index).toList();
        return CriticalPaths.weighted(order, i -> stages.get(i).deps(), weight);
    }

    /** The longest chain of work through the graph: no build of it can take less, however many workers. */
    long criticalPathMillis() {
        return criticalPathMillis(Double.POSITIVE_INFINITY);
    }

    /**
     * The longest chain when every stage also fetches all of its inputs at {@code fetchBytesPerSecond}:
     * what a build takes on an endless farm that places each stage at once but never where its inputs are.
     */
    long criticalPathMillis(double fetchBytesPerSecond) {
        Map<Integer, Long> finish = new HashMap<>();
        long longest = 0;
        for (Stage s : stages) {
            long start = s.deps().stream().mapToLong(finish::get).max().orElse(0);
            long in = s.deps().stream().mapToLong(d -> stages.get(d).outBytes()).sum();
            long end = start + s.workMillis() + (long) Math.ceil(in * 1000 / fetchBytesPerSecond);
            finish.put(s.index(), end);
            longest = Math.max(longest, end);
        }
        return longest;
    }

    long totalWorkMillis() {
        return stages.stream().mapToLong(Stage::workMillis).sum();
    }

    /** Stages that wait for nothing: a build's first jobs. */
    Set<Integer> roots() {
        Set<Integer> roots = new TreeSet<>();
        stages.stream().filter(s -> s.deps().isEmpty()).forEach(s -> roots.add(s.index()));
        return roots;
    }
}
