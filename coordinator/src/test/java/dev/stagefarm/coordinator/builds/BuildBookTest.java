package dev.stagefarm.coordinator.builds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.ListBuildsResponse;
import dev.stagefarm.proto.farm.StageReport;
import dev.stagefarm.proto.farm.StageTimeline;
import dev.stagefarm.proto.farm.StepEvent;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Who sees which builds, what a build's timeline says, and how many finished builds are kept. */
class BuildBookTest {

    private static final Caller ALICE =
            new Caller("alice", "team-a", EnumSet.of(Caller.Scope.READ, Caller.Scope.WRITE));
    private static final Caller BOB = new Caller("bob", "team-b", EnumSet.of(Caller.Scope.READ, Caller.Scope.WRITE));
    private static final Caller ADMIN = new Caller("root", "ops", EnumSet.of(Caller.Scope.READ, Caller.Scope.ADMIN));

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-03T10:00:00Z"));
    /** A clock the test moves. */
    private final InstantSource clock = now::get;

    private final BuildBook book = new BuildBook(clock);

    @Test
    void aTeamSeesItsOwnBuildsAndOthersOnlyAsCountsAndAnAdminSeesAll() {
        BuildRecord a = book.open("aaaa0001", "team-a", "Dockerfile", "");
        book.open("bbbb0001", "team-b", "Dockerfile", "");
        a.stageQueued(0, "builder", 3);

        ListBuildsResponse asBob = book.list(BOB, ListBuildsRequest.getDefaultInstance());
        assertThat(asBob.getBuildsList()).extracting(BuildSummary::getBuildId).containsExactly("bbbb0001");
        assertThat(asBob.getOtherTeamsList()).singleElement().satisfies(t -> {
            assertThat(t.getTeam()).isEqualTo("team-a");
            assertThat(t.getQueued()).isEqualTo(1);
            assertThat(t.getQueuedStages()).isEqualTo(1);
        });
        assertThat(book.list(
                                ALICE,
                                ListBuildsRequest.newBuilder()
                                        .setBuildId("bbbb0001")
                                        .build())
                        .getBuildsList())
                .as("asking for another team's build by id tells nothing")
                .isEmpty();
        assertThat(book.list(ADMIN, ListBuildsRequest.getDefaultInstance()).getBuildsList())
                .extracting(BuildSummary::getBuildId)
                .containsExactlyInAnyOrder("aaaa0001", "bbbb0001");
        assertThat(book.list(Caller.OPEN, ListBuildsRequest.getDefaultInstance())
                        .getBuildsList())
                .as("a farm without tokens is open")
                .hasSize(2);
    }

    @Test
    void aStagesTimelineFollowsItsWorkersAndEndsWithTheBuild() {
        BuildRecord b = book.open("cccc0001", "team-a", "Dockerfile", "");
        b.stageQueued(0, "builder", 2);
        now.set(now.get().plusSeconds(2));
        b.accept(step(0, "builder", 0, StepEvent.Status.STARTED, "w1"));
        now.set(now.get().plusSeconds(3));
        // w1 is lost: the stage runs again on w2
        b.accept(step(0, "builder", 0, StepEvent.Status.STARTED, "w2"));
        b.accept(step(0, "builder", 0, StepEvent.Status.DONE, "w2"));
        b.accept(step(0, "builder", 1, StepEvent.Status.DONE, "w2"));
        StageTimeline running = b.summary(true).getStages(0);
        assertThat(running.getState()).isEqualTo(StageTimeline.State.RUNNING);
        assertThat(running.getRunsList()).extracting(r -> r.getWorker()).containsExactly("w1", "w2");
        assertThat(running.getRuns(0).getFinishedAt()).isEqualTo("2026-12-03T10:00:05Z");
        assertThat(b.summary(false).getWorkersList()).containsExactly("w1", "w2");

        now.set(now.get().plusSeconds(1));
        b.accept(BuildEvent.newBuilder()
                .setResult(BuildResult.newBuilder()
                        .addStages(StageReport.newBuilder()
                                .setIndex(0)
                                .setName("builder")
                                .setWorker("w2")
                                .setStartedAt("2026-12-03T10:00:05Z")
                                .setFinishedAt("2026-12-03T10:00:06Z")))
                .build());
        BuildSummary done = b.summary(true);
        assertThat(done.getState()).isEqualTo(BuildSummary.State.SUCCEEDED);
        assertThat(done.getStepsDone()).isEqualTo(2);
        assertThat(done.getStepsTotal()).isEqualTo(2);
        assertThat(done.getStages(0).getState()).isEqualTo(StageTimeline.State.DONE);
        assertThat(b.cancel("too late"))
                .as("a finished build cannot be cancelled")
                .isFalse();
    }

    @Test
    void theLast200FinishedBuildsAreKept() {
        for (int i = 0; i < 250; i++) {
            BuildRecord b = book.open("id" + i, "team-a", "Dockerfile", "");
            now.set(now.get().plusSeconds(1));
            b.endIfOpen();
        }
        ListBuildsResponse all = book.list(
                ALICE, ListBuildsRequest.newBuilder().setIncludeFinished(true).build());
        assertThat(all.getBuildsList()).hasSize(BuildBook.FINISHED_KEPT);
        assertThat(all.getBuilds(0).getBuildId()).as("newest first").isEqualTo("id249");
        assertThat(book.find("id49")).isEmpty();
    }

    private static BuildEvent step(int stage, String name, int step, StepEvent.Status status, String worker) {
        return BuildEvent.newBuilder()
                .setStep(StepEvent.newBuilder()
                        .setStageIndex(stage)
                        .setStageName(name)
                        .setStepIndex(step)
                        .setStatus(status)
                        .setWorker(worker))
                .build();
    }
}
