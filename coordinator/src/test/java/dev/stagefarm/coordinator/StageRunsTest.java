package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.Step;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class StageRunsTest {

    private final StageRuns runs = new StageRuns();

    @Test
    void otherWorkOnTheSameStepsWaitsForTheRunUnderWayUntilItEnds() {
        var first = new CompletableFuture<Void>();
        assertThat(runs.claim(job("team-a", "stage-key", false), "copies", first))
                .isEmpty();

        assertThat(runs.claim(job("team-a", "stage-key", false), "builds-from", new CompletableFuture<>()))
                .contains(first);

        first.complete(null);
        assertThat(runs.claim(job("team-a", "stage-key", false), "builds-from", new CompletableFuture<>()))
                .as("the run is over: the steps are looked up in the cache, then run if missing")
                .isEmpty();
    }

    @Test
    void theSameWorkJoinsTheRunInsteadOfWaiting() {
        runs.claim(job("team-a", "stage-key", false), "copies", new CompletableFuture<>());

        assertThat(runs.claim(job("team-a", "stage-key", false), "copies", new CompletableFuture<>()))
                .isEmpty();
    }

    @Test
    void aJobWithNoStepToRunNeitherWaitsNorIsWaitedFor() {
        runs.claim(job("team-a", "stage-key", true), "exports-a", new CompletableFuture<>());
        assertThat(runs.claim(job("team-a", "stage-key", false), "runs", new CompletableFuture<>()))
                .as("an exports-only job holds no run of the steps")
                .isEmpty();

        assertThat(runs.claim(job("team-a", "stage-key", true), "exports-b", new CompletableFuture<>()))
                .isEmpty();
    }

    @Test
    void anotherTeamNeverWaitsForARunItCouldNotUse() {
        runs.claim(job("team-a", "stage-key", false), "copies", new CompletableFuture<>());

        assertThat(runs.claim(job("team-b", "stage-key", false), "builds-from", new CompletableFuture<>()))
                .as("a team's cache serves only that team, so its runs do too")
                .isEmpty();
        assertThat(runs.claim(job("team-a", "other-stage", false), "builds-from", new CompletableFuture<>()))
                .isEmpty();
    }

    private static Job job(String team, String stageKey, boolean cached) {
        return Job.newBuilder()
                .setTeam(team)
                .setStageKey(stageKey)
                .addSteps(Step.newBuilder().setKey("step").setIsCached(cached))
                .build();
    }
}
