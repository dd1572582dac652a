package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.plan.CacheKey;
import dev.stagefarm.coordinator.schedule.CriticalPaths;
import dev.stagefarm.coordinator.schedule.StageTimings;
import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.Instruction;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.dockerfile.StageGraph;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.StepEvent;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One build's part in the farm's {@link StageTimings}: what its steps are called across builds,
 * its critical paths weighted by what they took before, and the recording of each step it runs.
 *
 * <p>A step is named, within its team, by the text of its stage's FROM line and of every
 * instruction up to and including its own (a digest of them): the same Dockerfile built again
 * finds its steps' durations even when new sources change every cache key, while a step moved to
 * another stage, or after other instructions, counts as new. Only steps a worker ran are
 * recorded, never cache hits, which take no time and say nothing of the next run.
 */
final class BuildTimings {

    private final StageTimings timings;
    private final String team;
    /** Per stage, per instruction line of each filesystem step, the step's name. */
    private final Map<Integer, Map<Integer, String>> steps = new HashMap<>();

    BuildTimings(StageTimings timings, String team, Dockerfile dockerfile) {
        this.timings = timings;
        this.team = team;
        for (Stage stage : dockerfile.stages()) {
            Map<Integer, String> names = new HashMap<>();
            String name = CacheKey.of("step-timing").add(stage.original()).build();
            for (Instruction ins : stage.instructions()) {
                name = CacheKey.of("step-timing").add(name).add(ins.original()).build();
                if (makesStep(ins)) {
                    names.put(ins.line(), name);
                }
            }
            steps.put(stage.index(), names);
        }
    }

    /** The instructions the planner turns into a filesystem step that a worker runs. */
    private static boolean makesStep(Instruction ins) {
        return ins instanceof Instruction.Run || ins instanceof Instruction.Copy || ins instanceof Instruction.Workdir;
    }

    /** Per stage, in milliseconds, the heaviest chain of steps from it to the target, itself included. */
    Map<Integer, Long> criticalPaths(StageGraph graph) {
        return CriticalPaths.weighted(graph.reachable(), graph::dependencies, this::weightMillis);
    }

    private long weightMillis(int stage) {
        return steps.getOrDefault(stage, Map.of()).values().stream()
                .mapToLong(step -> timings.weightMillis(team, step))
                .sum();
    }

    /** Keeps how long a step of {@code stage} took, when {@code event} says it ran to the end. */
    void record(int stage, List<Step> planned, JobEvent event) {
        if (!event.hasStep() || event.getStep().getStatus() != StepEvent.Status.DONE) {
            return;
        }
        int index = event.getStep().getStepIndex() - 1; // step 0 is the FROM
        if (index < 0 || index >= planned.size()) {
            return;
        }
        String name = steps.getOrDefault(stage, Map.of()).get(planned.get(index).getLine());
        if (name != null) {
            timings.record(team, name, Duration.ofMillis(event.getStep().getMillis()));
        }
    }
}
