package dev.stagefarm.coordinator.builds;

import dev.stagefarm.proto.farm.StageReport;
import dev.stagefarm.proto.farm.StageRun;
import dev.stagefarm.proto.farm.StageTimeline;
import dev.stagefarm.proto.farm.StepEvent;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/** One stage of a build on the timeline: queued, then runs on one worker (or more, when one is lost). */
final class StageRecord {

    private final int index;
    private final String name;
    private StageTimeline.State state = StageTimeline.State.WAITING;
    private Instant queued;
    private Instant started;
    private Instant finished;
    private boolean cached;
    private int stepsTotal;
    private final BitSet stepsDone = new BitSet();
    private final List<Run> runs = new ArrayList<>();

    private static final class Run {
        final String worker;
        final Instant started;
        Instant finished;

        Run(String worker, Instant started) {
            this.worker = worker;
            this.started = started;
        }
    }

    StageRecord(int index, String name) {
        this.index = index;
        this.name = name;
    }

    StageTimeline.State state() {
        return state;
    }

    void queued(Instant at, int steps) {
        queued = at;
        stepsTotal = Math.max(stepsTotal, steps);
        if (state == StageTimeline.State.WAITING) {
            state = StageTimeline.State.QUEUED;
        }
    }

    void step(StepEvent e, Instant at) {
        stepsTotal = Math.max(stepsTotal, e.getStepIndex() + 1);
        if (e.getStatus() == StepEvent.Status.DONE || e.getStatus() == StepEvent.Status.CACHED) {
            stepsDone.set(e.getStepIndex());
        }
        if (isFinal()) {
            return;
        }
        if (e.getWorker().isEmpty()) {
            // the coordinator answers the whole stage from the cache
            if (e.getStatus() == StepEvent.Status.CACHED && queued == null) {
                cached = true;
                state = StageTimeline.State.CACHED;
                started = started == null ? at : started;
                finished = at;
            }
            return;
        }
        Run current = runs.isEmpty() ? null : runs.getLast();
        if (current == null || current.finished != null || !current.worker.equals(e.getWorker())) {
            if (current != null && current.finished == null) {
                current.finished = at; // its worker was lost; the stage runs again elsewhere
            }
            runs.add(new Run(e.getWorker(), at));
        }
        if (started == null) {
            started = at;
        }
        state = e.getStatus() == StepEvent.Status.FAILED ? StageTimeline.State.FAILED : StageTimeline.State.RUNNING;
    }

    void finished(StageReport report, Instant at) {
        if (state == StageTimeline.State.DONE || state == StageTimeline.State.CACHED) {
            return;
        }
        cached = report.getCached();
        state = cached ? StageTimeline.State.CACHED : StageTimeline.State.DONE;
        started = parse(report.getStartedAt(), started == null ? at : started);
        finished = parse(report.getFinishedAt(), at);
        stepsDone.set(0, Math.max(stepsTotal, stepsDone.length()));
        if (!report.getWorker().isEmpty()) {
            Run last = runs.isEmpty() ? null : runs.getLast();
            if (last == null || !last.worker.equals(report.getWorker())) {
                last = new Run(report.getWorker(), started);
                runs.add(last);
            }
            last.finished = finished;
        }
    }

    /** The build ended: a stage still open ends with it. */
    void stop(Instant at, StageTimeline.State how) {
        if (isFinal()) {
            return;
        }
        if (state == StageTimeline.State.RUNNING || state == StageTimeline.State.QUEUED) {
            finished = at;
        }
        state = how;
        for (Run r : runs) {
            if (r.finished == null) {
                r.finished = at;
            }
        }
    }

    private boolean isFinal() {
        return switch (state) {
            case DONE, CACHED, FAILED, CANCELLED -> true;
            default -> false;
        };
    }

    StageTimeline timeline() {
        StageTimeline.Builder t = StageTimeline.newBuilder()
                .setIndex(index)
                .setName(name)
                .setState(state)
                .setCached(cached)
                .setStepsDone(Math.min(stepsDone.cardinality(), Math.max(stepsTotal, stepsDone.cardinality())))
                .setStepsTotal(Math.max(stepsTotal, stepsDone.cardinality()));
        if (queued != null) {
            t.setQueuedAt(queued.toString());
        }
        if (started != null) {
            t.setStartedAt(started.toString());
        }
        if (finished != null) {
            t.setFinishedAt(finished.toString());
        }
        for (Run r : runs) {
            StageRun.Builder run = StageRun.newBuilder().setWorker(r.worker).setStartedAt(r.started.toString());
            if (r.finished != null) {
                run.setFinishedAt(r.finished.toString());
            }
            t.addRuns(run);
        }
        return t.build();
    }

    private static Instant parse(String text, Instant otherwise) {
        try {
            return text.isEmpty() ? otherwise : Instant.parse(text);
        } catch (DateTimeParseException e) {
            return otherwise;
        }
    }
}
