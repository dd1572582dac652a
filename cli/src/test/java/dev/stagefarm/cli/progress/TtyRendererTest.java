package dev.stagefarm.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.LogLine;
import dev.stagefarm.proto.farm.QueueEvent;
import dev.stagefarm.proto.farm.StepEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tty display's lines at given instants of a fake clock. */
class TtyRendererTest {

    private static final long S = 1_000_000_000L;

    private final BuildTimeline t = new BuildTimeline(0);

    @Test
    void runningStepShowsItsTimerWorkerAndLastLinesOfOutput() {
        t.accept(step(0, 1, "[a 2/2] RUN make", StepEvent.Status.STARTED, "w1"), 1 * S);
        for (int i = 1; i <= 8; i++) {
            t.accept(log(0, 1, "out " + i), 2 * S);
        }
        List<String> lines = TtyRenderer.render(t, 3_500_000_000L, 60, 24, false);
        assertThat(lines.getFirst()).isEqualTo("[+] Building 3.5s (0/1)");
        assertThat(lines.get(1))
                .startsWith(" => [a 2/2] RUN make")
                .endsWith("w1  2.5s")
                .hasSize(59);
        // the last six lines of output, oldest first
        assertThat(lines.subList(2, lines.size()))
                .containsExactly(
                        " => => # out 3",
                        " => => # out 4",
                        " => => # out 5",
                        " => => # out 6",
                        " => => # out 7",
                        " => => # out 8");
    }

    @Test
    void finishedStepsCollapseToOneLineWithTheirFinalTime() {
        t.accept(step(0, 1, "[a 2/3] RUN make", StepEvent.Status.STARTED, "w1"), 1 * S);
        t.accept(log(0, 1, "compiling"), 2 * S);
        t.accept(step(0, 1, "[a 2/3] RUN make", StepEvent.Status.DONE, "w1"), 3 * S);
        t.accept(step(0, 2, "[a 3/3] COPY x /", StepEvent.Status.CACHED, "w1"), 3 * S);
        List<String> lines = TtyRenderer.render(t, 10 * S, 60, 24, true);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("[+] Built 10.0s (2/2)");
        assertThat(lines.get(1)).endsWith("w1  2.0s").doesNotContain("compiling");
        assertThat(lines.get(2)).startsWith(" => CACHED [a 3/3] COPY x /").endsWith("w1");
    }

    @Test
    void everyLineFitsTheWidthAndTheWorkerStaysVisible() {
        String longRun = "[builder 3/6] RUN " + "x".repeat(200);
        t.accept(step(0, 3, longRun, StepEvent.Status.STARTED, "worker-a"), 0);
        t.accept(log(0, 3, "y".repeat(300)), 0);
        for (int width : List.of(40, 80, 132)) {
            List<String> lines = TtyRenderer.render(t, S, width, 24, false);
            assertThat(lines).allMatch(l -> l.length() < width);
            assertThat(lines.get(1)).contains("…").endsWith("worker-a  1.0s");
        }
    }

    @Test
    void aShortTerminalKeepsRunningStepsAndDropsTheOldestFinishedOnes() {
        for (int i = 1; i <= 10; i++) {
            t.accept(step(0, i, "[a " + i + "/12] RUN step" + i, StepEvent.Status.DONE, "w1"), i * S);
        }
        t.accept(step(0, 11, "[a 11/12] RUN running", StepEvent.Status.STARTED, "w2"), 11 * S);
        List<String> lines = TtyRenderer.render(t, 12 * S, 80, 5, false);
        assertThat(lines).hasSize(5);
        assertThat(lines.get(1)).contains("step8");
        assertThat(lines.get(3)).contains("step10");
        assertThat(lines.get(4)).contains("RUN running").endsWith("w2  1.0s");
    }

    @Test
    void queuedStagesShowHowLongTheyWait() {
        t.accept(
                BuildEvent.newBuilder()
                        .setQueue(QueueEvent.newBuilder().setStageIndex(1).setStageName("builder"))
                        .build(),
                2 * S);
        assertThat(TtyRenderer.render(t, 5 * S, 80, 24, false).get(1))
                .startsWith(" => [builder] waiting for a worker")
                .endsWith("queued  3.0s");
    }

    @Test
    void aFarmWithoutWorkersSaysSoAboveTheQueuedStagesUntilAWorkerTakesOne() {
        String note = "waiting for a worker: the farm has none right now";
        t.accept(queued(0, "base", note), 0);
        t.accept(queued(1, "builder", ""), 0);
        List<String> waiting = TtyRenderer.render(t, 30 * S, 80, 24, false);
        assertThat(waiting.subList(1, waiting.size()))
                .hasSize(3)
                .startsWith(" => " + note)
                .filteredOn(l -> l.contains(note))
                .hasSize(1);

        t.accept(
                BuildEvent.newBuilder()
                        .setQueue(QueueEvent.newBuilder()
                                .setStageIndex(0)
                                .setStageName("base")
                                .setWorker("w1")
                                .setWaitedMillis(40_000))
                        .build(),
                40 * S);
        assertThat(TtyRenderer.render(t, 41 * S, 80, 24, false)).noneMatch(l -> l.contains(note));
        assertThat(t.queueWaits().getFirst().start())
                .as("the wait began when the stage queued")
                .isZero();
    }

    private static BuildEvent queued(int stage, String name, String note) {
        return BuildEvent.newBuilder()
                .setQueue(QueueEvent.newBuilder()
                        .setStageIndex(stage)
                        .setStageName(name)
                        .setNote(note))
                .build();
    }

    @Test
    void aBuildsOutputCannotMoveTheCursorOrClearTheScreen() {
        t.accept(step(0, 1, "[a 2/2] RUN evil", StepEvent.Status.STARTED, "w1"), 0);
        t.accept(log(0, 1, "\u001b[2J\u001b[10Aowned\r\u0007"), 0);
        List<String> lines = TtyRenderer.render(t, S, 80, 24, false);
        assertThat(lines.get(2)).isEqualTo(" => => # [2J[10Aowned");
        assertThat(String.join("", lines)).doesNotContain("\u001b").doesNotContain("\r");
    }

    static BuildEvent step(int stage, int step, String description, StepEvent.Status status, String worker) {
        return BuildEvent.newBuilder()
                .setStep(StepEvent.newBuilder()
                        .setStageIndex(stage)
                        .setStageName("a")
                        .setStepIndex(step)
                        .setDescription(description)
                        .setStatus(status)
                        .setWorker(worker))
                .build();
    }

    static BuildEvent log(int stage, int step, String text) {
        return BuildEvent.newBuilder()
                .setLog(LogLine.newBuilder()
                        .setStageIndex(stage)
                        .setStepIndex(step)
                        .setText(text))
                .build();
    }
}
