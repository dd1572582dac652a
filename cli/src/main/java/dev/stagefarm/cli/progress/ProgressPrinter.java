package dev.stagefarm.cli.progress;

import dev.stagefarm.common.output.OutputLines;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.StepEvent;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;

/** buildx's "plain" progress: one numbered vertex per step, with its log lines and outcome. */
public final class ProgressPrinter {

    private final PrintStream out;
    private final Map<String, Integer> vertex = new HashMap<>();
    private final OutputLines lines = new OutputLines();
    private int next = 1;

    public ProgressPrinter(PrintStream out) {
        this.out = out;
    }

    public synchronized void accept(BuildEvent event) {
        switch (event.getKindCase()) {
            case STEP -> step(event.getStep());
            case LOG -> lines.accept(event.getLog()).forEach(this::print);
            case RESULT, ERROR -> lines.endAll().forEach(this::print);
            case QUEUE -> {
                // the farm's own line (no worker at all): not a step's, so no vertex number
                if (!event.getQueue().getNote().isEmpty()) {
                    out.println(event.getQueue().getNote());
                }
            }
            default -> {}
        }
        out.flush();
    }

    /** The events have ended: the steps' unfinished last lines are printed as they are. */
    public synchronized void finish() {
        lines.endAll().forEach(this::print);
        out.flush();
    }

    private int id(int stage, int step) {
        return vertex.computeIfAbsent(stage + "/" + step, k -> next++);
    }

    private void step(StepEvent e) {
        if (e.getStatus() == StepEvent.Status.DONE || e.getStatus() == StepEvent.Status.FAILED) {
            lines.end(e.getStageIndex(), e.getStepIndex()).forEach(this::print); // a last line without newline
        }
        boolean first = !vertex.containsKey(e.getStageIndex() + "/" + e.getStepIndex());
        int id = id(e.getStageIndex(), e.getStepIndex());
        String where = e.getWorker().isEmpty() ? "" : " (on " + e.getWorker() + ")";
        if (first && e.getStatus() != StepEvent.Status.STARTED && e.getStatus() != StepEvent.Status.CACHED) {
            out.printf("#%d %s%s%n", id, e.getDescription(), where);
        }
        switch (e.getStatus()) {
            case STARTED -> out.printf("#%d %s%s%n", id, e.getDescription(), where);
            case CACHED -> out.printf("#%d %s%n#%d CACHED%n", id, e.getDescription(), id);
            case DONE -> out.printf("#%d DONE %.1fs%n", id, e.getMillis() / 1000.0);
            case FAILED -> out.printf("#%d ERROR %s%n", id, e.getDescription());
            default -> {}
        }
    }

    private void print(OutputLines.Line line) {
        if (line.stageIndex() < 0) {
            out.println(line.text()); // the coordinator's own note, no step's
            return;
        }
        out.printf("#%d %s%n", id(line.stageIndex(), line.stepIndex()), line.text());
    }
}
