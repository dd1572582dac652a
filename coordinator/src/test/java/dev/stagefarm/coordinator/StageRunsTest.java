package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.LogLine;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.StepEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class StageRunsTest {

    private final StageRuns runs = new StageRuns();

    @Test
    void otherWorkOnTheSameStepsWaitsForTheRunUnderWayUntilItEnds() {
        var first = new CompletableFuture<Void>();
        var copies = new StageRuns.Run("copies", first);
        assertThat(runs.claim(job("team-a", "stage-key", false), copies)).isEmpty();

        assertThat(runs.claim(
                        job("team-a", "stage-key", false), new StageRuns.Run("builds-from", new CompletableFuture<>())))
                .contains(copies);

        first.complete(null);
        assertThat(runs.claim(
                        job("team-a", "stage-key", false), new StageRuns.Run("builds-from", new CompletableFuture<>())))
                .as("the run is over: the steps are looked up in the cache, then run if missing")
                .isEmpty();
    }

    @Test
    void theSameWorkJoinsTheRunInsteadOfWaiting() {
        runs.claim(job("team-a", "stage-key", false), new StageRuns.Run("copies", new CompletableFuture<>()));

        assertThat(runs.claim(
                        job("team-a", "stage-key", false), new StageRuns.Run("copies", new CompletableFuture<>())))
                .isEmpty();
    }

    @Test
    void aJobWithNoStepToRunNeitherWaitsNorIsWaitedFor() {
        runs.claim(job("team-a", "stage-key", true), new StageRuns.Run("exports-a", new CompletableFuture<>()));
        assertThat(runs.claim(job("team-a", "stage-key", false), new StageRuns.Run("runs", new CompletableFuture<>())))
                .as("an exports-only job holds no run of the steps")
                .isEmpty();

        assertThat(runs.claim(
                        job("team-a", "stage-key", true), new StageRuns.Run("exports-b", new CompletableFuture<>())))
                .isEmpty();
    }

    @Test
    void anotherTeamNeverWaitsForARunItCouldNotUse() {
        runs.claim(job("team-a", "stage-key", false), new StageRuns.Run("copies", new CompletableFuture<>()));

        assertThat(runs.claim(
                        job("team-b", "stage-key", false), new StageRuns.Run("builds-from", new CompletableFuture<>())))
                .as("a team's cache serves only that team, so its runs do too")
                .isEmpty();
        assertThat(runs.claim(
                        job("team-a", "other-stage", false),
                        new StageRuns.Run("builds-from", new CompletableFuture<>())))
                .isEmpty();
    }

    @Test
    void aWaitingBuildWatchesTheRunsStepsStartAndEndButNotTheirOutput() {
        var run = new StageRuns.Run("copies", new CompletableFuture<>());
        runs.claim(job("team-a", "stage-key", false), run);
        List<StepEvent.Status> watched = new ArrayList<>();
        runs.claim(job("team-a", "stage-key", false), new StageRuns.Run("builds-from", new CompletableFuture<>()))
                .orElseThrow()
                .watch(step -> watched.add(step.getStatus()));

        for (var status : List.of(StepEvent.Status.STARTED, StepEvent.Status.FAILED, StepEvent.Status.DONE)) {
            run.reported(JobEvent.newBuilder()
                    .setStep(StepEvent.newBuilder().setStatus(status))
                    .build());
        }
        run.reported(JobEvent.newBuilder()
                .setLog(LogLine.newBuilder().setText("the other build's output"))
                .build());

        assertThat(watched)
                .as("a failure is the other build's: the waiting build then runs the steps itself")
                .containsExactly(StepEvent.Status.STARTED, StepEvent.Status.DONE);
    }

    private static Job job(String team, String stageKey, boolean cached) {
        return Job.newBuilder()
                .setTeam(team)
                .setStageKey(stageKey)
                .addSteps(Step.newBuilder().setKey("step").setIsCached(cached))
                .build();
    }
}
