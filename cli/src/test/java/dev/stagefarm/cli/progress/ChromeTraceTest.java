package dev.stagefarm.cli.progress;

import static dev.stagefarm.cli.progress.TtyRendererTest.step;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.QueueEvent;
import dev.stagefarm.proto.farm.StepEvent;
import dev.stagefarm.proto.farm.TransferEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The trace of a build on a fake clock: tracks, lanes, nesting, queue waits. */
class ChromeTraceTest {

    private static final long MS = 1_000_000L;

    @Test
    void stagesSideBySideOnOneWorkerGetTwoLanesAndTransfersNestInTheirStep() {
        BuildTimeline t = new BuildTimeline(0);
        t.accept(queue(0, "a", ""), 0);
        t.accept(queue(1, "b", ""), 0);
        t.accept(queue(0, "a", "w1"), 100 * MS);
        t.accept(queue(1, "b", "w1"), 300 * MS);
        t.accept(stage(0, "a", StepEvent.Status.STARTED), 110 * MS);
        t.accept(stage(1, "b", StepEvent.Status.STARTED), 310 * MS);
        t.accept(
                BuildEvent.newBuilder()
                        .setTransfer(TransferEvent.newBuilder()
                                .setStageIndex(1)
                                .setStepIndex(1)
                                .setWorker("w1")
                                .setWhat("layers")
                                .setBytes(5_000_000)
                                .setMillis(500))
                        .build(),
                600 * MS);
        t.accept(stage(1, "b", StepEvent.Status.DONE), 900 * MS);
        t.accept(stage(0, "a", StepEvent.Status.DONE), 1000 * MS);

        ObjectNode trace = ChromeTrace.json(t, 1000 * MS);
        List<JsonNode> slices = new ArrayList<>();
        trace.get("traceEvents").forEach(e -> {
            if (e.get("ph").asText().equals("X")) {
                slices.add(e);
            }
        });
        JsonNode a = find(slices, "[a 2/2] RUN a");
        JsonNode b = find(slices, "[b 2/2] RUN b");
        assertThat(a.get("pid").asInt()).isEqualTo(b.get("pid").asInt());
        assertThat(a.get("tid").asInt()).isNotEqualTo(b.get("tid").asInt());
        assertThat(a.get("ts").asDouble()).isEqualTo(110_000.0);
        assertThat(a.get("dur").asDouble()).isEqualTo(890_000.0);
        JsonNode fetch = find(slices, "fetch layers 5.0 MB");
        // sent 500 ms after it began, but never drawn before its step started
        assertThat(fetch.get("ts").asDouble()).isEqualTo(310_000.0);
        assertThat(fetch.get("tid").asInt()).isEqualTo(b.get("tid").asInt());
        JsonNode waitA = find(slices, "queued: stage a");
        assertThat(waitA.get("dur").asDouble()).isEqualTo(100_000.0);
        assertThat(find(slices, "queued: stage b").get("dur").asDouble()).isEqualTo(300_000.0);
        assertThat(trace.toString()).contains("\"process_name\"", "\"w1\"", "\"coordinator queue\"");
    }

    private static JsonNode find(List<JsonNode> slices, String name) {
        return slices.stream()
                .filter(s -> s.get("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no slice " + name + " in " + slices));
    }

    private static BuildEvent stage(int index, String name, StepEvent.Status status) {
        BuildEvent e = step(index, 1, "[" + name + " 2/2] RUN " + name, status, "w1");
        return e.toBuilder().setStep(e.getStep().toBuilder().setStageName(name)).build();
    }

    private static BuildEvent queue(int stage, String name, String worker) {
        return BuildEvent.newBuilder()
                .setQueue(QueueEvent.newBuilder()
                        .setStageIndex(stage)
                        .setStageName(name)
                        .setWorker(worker))
                .build();
    }
}
