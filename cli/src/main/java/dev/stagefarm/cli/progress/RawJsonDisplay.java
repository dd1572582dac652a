package dev.stagefarm.cli.progress;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.common.output.OutputLines;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.StepEvent;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * {@code --progress rawjson}: one JSON object per line and event, for programs. Every object has
 * {@code type} and {@code time} (seconds since the build began on this client); the last is a
 * {@code summary} or an {@code error}.
 */
final class RawJsonDisplay extends TimelineDisplay {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final OutputLines lines = new OutputLines();

    RawJsonDisplay(PrintStream out, PrintStream err, LongSupplier clock) {
        super(out, err, clock);
    }

    @Override
    void show(BuildEvent event, long now) {
        // output arrives in chunks that may end inside a line: programs get whole lines
        switch (event.getKindCase()) {
            case LOG -> {
                lines.accept(event.getLog()).forEach(l -> log(l, now));
                return;
            }
            case STEP -> {
                var s = event.getStep();
                if (s.getStatus() == StepEvent.Status.DONE || s.getStatus() == StepEvent.Status.FAILED) {
                    lines.end(s.getStageIndex(), s.getStepIndex()).forEach(l -> log(l, now));
                }
            }
            case RESULT, ERROR -> lines.endAll().forEach(l -> log(l, now));
            default -> {}
        }
        ObjectNode o = node(event.getKindCase().name().toLowerCase(Locale.ROOT), now);
        switch (event.getKindCase()) {
            case STEP -> {
                var s = event.getStep();
                o.put("stage", s.getStageIndex())
                        .put("stage_name", s.getStageName())
                        .put("step", s.getStepIndex())
                        .put("description", s.getDescription())
                        .put("status", s.getStatus().name().toLowerCase(Locale.ROOT))
                        .put("worker", s.getWorker())
                        .put("millis", s.getMillis());
            }
            case QUEUE -> {
                var q = event.getQueue();
                o.put("stage", q.getStageIndex())
                        .put("stage_name", q.getStageName())
                        .put("state", q.getWorker().isEmpty() ? "queued" : "dispatched")
                        .put("worker", q.getWorker())
                        .put("waited_millis", q.getWaitedMillis());
                if (!q.getNote().isEmpty()) {
                    o.put("note", q.getNote());
                }
            }
            case TRANSFER -> {
                var t = event.getTransfer();
                o.put("stage", t.getStageIndex())
                        .put("step", t.getStepIndex())
                        .put("worker", t.getWorker())
                        .put("what", t.getWhat())
                        .put("bytes", t.getBytes())
                        .put("millis", t.getMillis());
            }
            default -> {
                return;
            }
        }
        print(o);
    }

    @Override
    public synchronized void endEvents() {
        long now = clock.getAsLong();
        lines.endAll().forEach(l -> log(l, now));
    }

    private void log(OutputLines.Line line, long now) {
        print(node("log", now)
                .put("stage", line.stageIndex())
                .put("step", line.stepIndex())
                .put("text", line.text()));
    }

    /** The client's own lines would break the one-object-per-line stream. */
    @Override
    public PrintStream info() {
        return NOWHERE;
    }

    @Override
    public synchronized void summary(BuildResult result) {
        long now = clock.getAsLong();
        BuildSummary s = BuildSummary.of(timeline, result, now);
        ObjectNode o = node("summary", now)
                .put("total_millis", s.totalNanos() / 1_000_000)
                .put("steps_run", s.stepsRun())
                .put("steps_cached", s.stepsCached())
                .put("fetched_bytes", s.fetchedBytes())
                .put("queue_millis", s.queueMillis())
                .put("image", result.hasImage() ? result.getImage().getManifestDigest() : "");
        ObjectNode workers = o.putObject("workers");
        s.workers()
                .forEach((w, b) -> workers.putObject(w)
                        .put("stages", b.stages())
                        .put("busy_millis", b.time().toMillis()));
        print(o);
    }

    @Override
    public synchronized void error(String message) {
        print(node("error", clock.getAsLong()).put("message", message));
        super.error(message);
    }

    private ObjectNode node(String type, long now) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", type);
        o.put("time", (now - timeline.started()) / 1e9);
        return o;
    }

    private void print(ObjectNode o) {
        out.println(o.toString());
        out.flush();
    }
}
