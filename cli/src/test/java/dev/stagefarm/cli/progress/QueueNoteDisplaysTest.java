package dev.stagefarm.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.QueueEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The farm's line while a build waits for a first worker, as the plain and rawjson displays show it. */
class QueueNoteDisplaysTest {

    private static final String NOTE = "waiting for a worker: the farm has none right now";

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void plainPrintsTheLineOnceAndNothingForAnOrdinaryQueueWait() {
        PlainDisplay plain = new PlainDisplay(print(out), print(err), () -> 0);
        plain.event(queued(0, NOTE));
        plain.event(queued(1, ""));
        plain.event(BuildEvent.newBuilder()
                .setQueue(
                        QueueEvent.newBuilder().setStageIndex(0).setWorker("w1").setWaitedMillis(30_000))
                .build());

        assertThat(text(out).lines()).containsExactly(NOTE);
    }

    @Test
    void rawjsonCarriesTheLineOnItsQueueObjectOnly() {
        RawJsonDisplay json = new RawJsonDisplay(print(out), print(err), () -> 0);
        json.event(queued(0, NOTE));
        json.event(queued(1, ""));

        var lines = text(out).lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"type\":\"queue\"").contains("\"note\":\"" + NOTE + "\"");
        assertThat(lines.get(1)).doesNotContain("note");
    }

    private static BuildEvent queued(int stage, String note) {
        return BuildEvent.newBuilder()
                .setQueue(QueueEvent.newBuilder()
                        .setStageIndex(stage)
                        .setStageName("stage-" + stage)
                        .setNote(note))
                .build();
    }

    private static PrintStream print(ByteArrayOutputStream to) {
        return new PrintStream(to, true, StandardCharsets.UTF_8);
    }

    private static String text(ByteArrayOutputStream from) {
        return from.toString(StandardCharsets.UTF_8);
    }
}
