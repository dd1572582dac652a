package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.schedule.JobTicket;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.StageTimings;
import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.DockerfileParser;
import dev.stagefarm.dockerfile.StageGraph;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.StepEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A build's critical paths weighted by what its steps took in earlier builds, and the queue's
 * order that follows from them, on a clock the test moves.
 */
class BuildTimingsTest {

    /** Stage a: three steps; stage b: one; the target copies from both. */
    private static final String DOCKERFILE = """
            FROM scratch AS a
            RUN one
            RUN two
            RUN three
            FROM scratch AS b
            RUN long
            FROM scratch
            COPY --from=a /a /a
            COPY --from=b /b /b
            """;

    private static final List<Step> STEPS_OF_A = List.of(step(2), step(3), step(4));
    private static final List<Step> STEPS_OF_B = List.of(step(6));

    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final InstantSource clock = () -> now;
    private final StageTimings timings = new StageTimings(clock);
    private final Dockerfile dockerfile = parse();

    @Test
    void aStageWithALongRecordedStepGoesBeforeOneWithMoreShortSteps() {
        assertThat(firstPlaced("team"))
                .as("nothing recorded: the stage with more steps")
                .isEqualTo("a");

        ranFirstBuild("team");

        assertThat(firstPlaced("team"))
                .as("b's one step took 30 s, a's three 50 ms each")
                .isEqualTo("b");
        assertThat(new BuildTimings(timings, "team", dockerfile).criticalPaths(graph()))
                .containsEntry(0, 3 * 50L + 2_000)
                .containsEntry(1, 30_000L + 2_000)
                .containsEntry(2, 2_000L);
    }

    @Test
    void recordedDurationsServeOnlyTheirTeamAndOnlyForADay() {
        ranFirstBuild("team");

        assertThat(firstPlaced("other-team")).isEqualTo("a");
        now = now.plus(Duration.ofHours(23));
        assertThat(firstPlaced("team")).isEqualTo("b");
        now = now.plus(Duration.ofHours(2));
        assertThat(firstPlaced("team")).as("forgotten after a day").isEqualTo("a");
    }

    @Test
    void aStepFoundInTheCacheIsNotRecorded() {
        BuildTimings build = new BuildTimings(timings, "team", dockerfile);

        build.record(1, STEPS_OF_B, event(1, StepEvent.Status.CACHED, 0));
        build.record(1, STEPS_OF_B, event(1, StepEvent.Status.STARTED, 0));
        build.record(1, STEPS_OF_B, event(0, StepEvent.Status.DONE, 5_000)); // the FROM

        assertThat(timings.size()).isZero();
    }

    /** A build of the Dockerfile whose workers report a's steps at 50 ms each and b's at 30 s. */
    private void ranFirstBuild(String team) {
        BuildTimings build = new BuildTimings(timings, team, dockerfile);
        for (int i = 1; i <= 3; i++) {
            build.record(0, STEPS_OF_A, event(i, StepEvent.Status.DONE, 50));
        }
        build.record(1, STEPS_OF_B, event(1, StepEvent.Status.DONE, 30_000));
    }

    /** Queues a new build's stages b and a (in that order) for one free slot: which one takes it. */
    private String firstPlaced(String team) {
        Map<Integer, Long> paths = new BuildTimings(timings, team, dockerfile).criticalPaths(graph());
        Scheduler scheduler = new Scheduler(clock);
        scheduler.addWorker("w1", "w1", 1);
        for (int stage : List.of(1, 0)) {
            String id = "build-" + stage;
            scheduler.submit(new JobTicket(id, team, "build", "job:" + id, now, paths.get(stage), w -> 0));
        }
        List<Scheduler.Placement> placed = scheduler.place();
        assertThat(placed).hasSize(1);
        return placed.getFirst().wireId().equals("build-0") ? "a" : "b";
    }

    private Dockerfile parse() {
        try {
            return DockerfileParser.parse(DOCKERFILE, "Dockerfile");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private StageGraph graph() {
        try {
            return StageGraph.build(dockerfile, Optional.empty());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Step step(int line) {
        return Step.newBuilder().setLine(line).build();
    }

    private static JobEvent event(int stepIndex, StepEvent.Status status, long millis) {
        return JobEvent.newBuilder()
                .setStep(StepEvent.newBuilder()
                        .setStepIndex(stepIndex)
                        .setStatus(status)
                        .setMillis(millis))
                .build();
    }
}
