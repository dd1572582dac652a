package dev.stagefarm.coordinator;

import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.StepEvent;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The stage runs under way on the farm, by team and stage key (the key of a stage's last step:
 * its base and every step). Two builds' jobs for the same steps are often not the same work, which
 * the scheduler runs once: one build copies files from the stage, so its job exports them and
 * reports before its layers are stored, while another builds {@code FROM} the stage (a
 * {@code --target test} beside the full build). The later of the two waits for the run under way
 * and then finds the steps in the cache, as it would had it come after, instead of running them a
 * second time; what only it needs (other exports) is then a job without a step to run. Meanwhile
 * its client sees the steps run. BuildKit's solver does the same with two vertices of one cache key.
 */
final class StageRuns {

    /**
     * One build's run of a stage's steps: its work, its end, and the builds waiting for it, which
     * watch its steps start and end. They never see its output: that is the other build's.
     */
    static final class Run {
        private final String workKey;
        private final CompletableFuture<Void> end;
        private final List<Consumer<StepEvent>> watchers = new CopyOnWriteArrayList<>();

        Run(String workKey, CompletableFuture<Void> end) {
            this.workKey = workKey;
            this.end = end;
        }

        CompletableFuture<Void> end() {
            return end;
        }

        /**
         * {@code watcher} hears the run's steps start and end from now on, until the returned
         * handle is run: a build that stops waiting (cancelled) must not show them after its end.
         */
        Runnable watch(Consumer<StepEvent> watcher) {
            watchers.add(watcher);
            return () -> watchers.remove(watcher);
        }

        /** Waits for the run's end, or {@code stopWaiting}'s, while {@code watcher} hears its steps. */
        void awaitWatching(Consumer<StepEvent> watcher, CompletableFuture<?> stopWaiting) {
            Runnable unwatch = watch(watcher);
            try {
                CompletableFuture.anyOf(end, stopWaiting).join();
            } finally {
                unwatch.run();
            }
        }

        /** An event of the run's job: its steps' starts and ends go to the builds that wait. */
        void reported(JobEvent event) {
            if (!event.hasStep()) {
                return;
            }
            StepEvent.Status status = event.getStep().getStatus();
            if (status == StepEvent.Status.STARTED || status == StepEvent.Status.DONE) {
                watchers.forEach(w -> w.accept(event.getStep()));
            }
        }
    }

    private final Map<String, Run> byStage = new ConcurrentHashMap<>();

    /**
     * Claims the steps of {@code job} for its run, {@code mine}, unless a run of other work is
     * under way for them. A job with no step to run (all cached: it only exports) neither claims
     * nor waits.
     *
     * @return that other run, to wait for before looking the steps up again; empty when there is
     *     none (the caller runs them) or it is the same work (the job joins it)
     */
    Optional<Run> claim(Job job, Run mine) {
        if (job.getStepsList().stream().allMatch(Step::getIsCached)) {
            return Optional.empty();
        }
        String key = job.getTeam() + "\0" + job.getStageKey();
        Run current = byStage.compute(key, (k, run) -> run == null || run.end().isDone() ? mine : run);
        if (current == mine) {
            mine.end().whenComplete((done, failed) -> byStage.remove(key, mine));
            return Optional.empty();
        }
        return current.workKey.equals(mine.workKey) ? Optional.empty() : Optional.of(current);
    }
}
