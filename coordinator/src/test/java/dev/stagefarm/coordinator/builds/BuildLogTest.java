package dev.stagefarm.coordinator.builds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.farm.BuildError;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.LogLine;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A build printing without end costs the coordinator a bounded, stated amount of memory. */
class BuildLogTest {

    private static final String KIB_LINE = "y".repeat(1023);

    @Test
    void aStepsOutputStopsAtTwoMebibytesWithTheSandboxesLine() throws Exception {
        BuildLog log = new BuildLog();
        for (int i = 0; i < 3 * 1024; i++) { // RUN yes: 3 MiB in lines of 1 KiB
            log.add(line(0, 1, KIB_LINE));
        }
        log.add(line(0, 2, "the next step prints again"));

        BuildLog.Batch all = log.read(0, Duration.ZERO);
        long kept = all.events().stream()
                .filter(e ->
                        e.getLog().getStepIndex() == 1 && e.getLog().getText().equals(KIB_LINE))
                .count();
        assertThat(kept).isEqualTo(2048); // 2 MiB exactly (newlines counted); the line that crosses it is replaced
        assertThat(all.events())
                .extracting(e -> e.getLog().getText())
                .contains(BuildLog.CLIPPED, "the next step prints again");
    }

    @Test
    void chunksOfRawOutputCountByTheirBytes() throws Exception {
        BuildLog log = new BuildLog();
        for (int i = 0; i < 96; i++) { // 3 MiB in the worker's 32 KiB chunks
            log.add(BuildEvent.newBuilder()
                    .setLog(LogLine.newBuilder()
                            .setStageIndex(0)
                            .setStepIndex(1)
                            .setData(ByteString.copyFrom(new byte[32 * 1024])))
                    .build());
        }

        BuildLog.Batch all = log.read(0, Duration.ZERO);
        assertThat(all.events().stream().filter(e -> !e.getLog().getData().isEmpty()))
                .as("chunks kept: 2 MiB exactly")
                .hasSize(64);
        assertThat(all.events().getLast().getLog().getText()).isEqualTo(BuildLog.CLIPPED);
        assertThat(all.events()).hasSize(65);
    }

    @Test
    void aRunningBuildKeepsItsLastFourMebibytesAndAFinishedOneItsLast256Kibibytes() throws Exception {
        BuildLog log = new BuildLog();
        for (int step = 0; step < 5; step++) {
            for (int i = 0; i < 1500; i++) {
                log.add(line(0, step, KIB_LINE));
            }
        }
        assertThat(log.bytes()).isLessThanOrEqualTo(BuildLog.RUNNING_BYTES);
        BuildLog.Batch running = log.read(0, Duration.ZERO);
        assertThat(running.dropped())
                .as("a reader from the start is told what it missed")
                .isPositive();
        assertThat(running.events().getLast().getLog().getStepIndex()).isEqualTo(4);

        log.end(BuildEvent.newBuilder()
                .setError(BuildError.newBuilder().setMessage("RUN yes: killed"))
                .build());
        assertThat(log.bytes()).isLessThanOrEqualTo(BuildLog.FINISHED_BYTES);
        assertThat(log.read(0, Duration.ZERO).events().getLast().getError().getMessage())
                .as("the build's end is kept")
                .isEqualTo("RUN yes: killed");
    }

    @Test
    void aFollowerWaitsForTheNextLineAndStopsAtTheEnd() throws Exception {
        BuildLog log = new BuildLog();
        log.add(line(0, 1, "one"));
        BuildLog.Batch first = log.read(0, Duration.ZERO);
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            log.add(line(0, 1, "two"));
        });
        BuildLog.Batch second = log.read(first.next(), Duration.ofSeconds(10));
        assertThat(second.events()).extracting(e -> e.getLog().getText()).containsExactly("two");
        assertThat(second.ended()).isFalse();
        log.end(BuildEvent.newBuilder()
                .setError(BuildError.newBuilder().setMessage("x"))
                .build());
        assertThat(log.read(second.next(), Duration.ofSeconds(10)).ended()).isTrue();
    }

    private static BuildEvent line(int stage, int step, String text) {
        return BuildEvent.newBuilder()
                .setLog(LogLine.newBuilder()
                        .setStageIndex(stage)
                        .setStepIndex(step)
                        .setText(text))
                .build();
    }
}
