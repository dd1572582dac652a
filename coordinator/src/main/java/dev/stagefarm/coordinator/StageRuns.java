package dev.stagefarm.coordinator;

import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.Step;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stage runs under way on the farm, by team and stage key (the key of a stage's last step:
 * its base and every step). Two builds' jobs for the same steps are often not the same work, which
 * the scheduler runs once: one build copies files from the stage, so its job exports them and
 * reports before its layers are stored, while another builds {@code FROM} the stage (a
 * {@code --target test} beside the full build). The later of the two waits for the run under way
 * and then finds the steps in the cache, as it would had it come after, instead of running them a
 * second time; what only it needs (other exports) is then a job without a step to run. BuildKit's
 * solver does the same with two vertices of one cache key.
 */
final class StageRuns {

    private record Run(String workKey, CompletableFuture<Void> end) {}

    private final Map<String, Run> byStage = new ConcurrentHashMap<>();

    /**
     * Claims the steps of {@code job} (work {@code workKey}) for its run, which
     * ends with {@code end}, unless a run of other work is under way for them. A job with no step
     * to run (all cached: it only exports) neither claims nor waits.
     *
     * @return the end of that other run, to wait for before looking the steps up again; empty when
     *     there is none (the caller runs them) or it is the same work (the job joins it)
     */
    Optional<CompletableFuture<Void>> claim(Job job, String workKey, CompletableFuture<Void> end) {
        if (job.getStepsList().stream().allMatch(Step::getIsCached)) {
            return Optional.empty();
        }
        String key = job.getTeam() + "\0" + job.getStageKey();
        Run mine = new Run(workKey, end);
        Run current = byStage.compute(key, (k, run) -> run == null || run.end().isDone() ? mine : run);
        if (current == mine) {
            end.whenComplete((done, failed) -> byStage.remove(key, mine));
            return Optional.empty();
        }
        return current.workKey().equals(workKey) ? Optional.empty() : Optional.of(current.end());
    }
}
