package dev.stagefarm.cli.progress;

import dev.stagefarm.common.output.OutputLines;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.QueueEvent;
import dev.stagefarm.proto.farm.StepEvent;
import dev.stagefarm.proto.farm.TransferEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A build as its client saw it: every step with its worker, state, times and last lines of
 * output; the stages' queue waits; the workers' transfers. Times are this process's clock
 * ({@code System.nanoTime()} or a test's) at each event's arrival, so everything a display or
 * a trace draws is on one clock whichever machines the workers are on. Not thread-safe: the
 * displays hold their own lock around it.
 */
public final class BuildTimeline {

    /** Lines of output kept per step: the tty display shows the last few of a running step. */
    static final int TAIL = 6;

    public enum State {
        RUNNING,
        CACHED,
        DONE,
        FAILED
    }

    /** One step of one stage. Times in nanoseconds of the timeline's clock; end is -1 while it runs. */
    public static final class Step {
        final int stage;
        final int index;
        final String stageName;
        String description;
        String worker;
        State state = State.RUNNING;
        long start;
        long end = -1;
        final Deque<String> tail = new ArrayDeque<>();

        Step(int stage, int index, String stageName, String description, String worker, long start) {
            this.stage = stage;
            this.index = index;
            this.stageName = stageName;
            this.description = description;
            this.worker = worker;
            this.start = start;
        }

        public int stage() {
            return stage;
        }

        public int index() {
            return index;
        }

        public String description() {
            return description;
        }

        public String worker() {
            return worker;
        }

        public State state() {
            return state;
        }

        public long start() {
            return start;
        }

        public long end() {
            return end;
        }

        public List<String> tail() {
            return List.copyOf(tail);
        }
    }

    /** A stage's wait in the coordinator's queue; worker and end are unset while it waits. */
    public record QueueWait(int stage, String stageName, String worker, long start, long end) {}

    /** Bytes a worker fetched for a step, between start and end. */
    public record Transfer(int stage, int step, String worker, String what, long bytes, long start, long end) {}

    private final long started;
    private final Map<String, Step> steps = new LinkedHashMap<>();
    private final Map<Integer, QueueWait> waiting = new LinkedHashMap<>();
    private final List<QueueWait> waits = new ArrayList<>();
    private final List<Transfer> transfers = new ArrayList<>();
    /** Steps' output as lines: it arrives in chunks that may end inside one. */
    private final OutputLines output = new OutputLines();
    /** The farm's word on the queue (no worker at all), until a worker takes a stage. */
    private String queueNote = "";

    public BuildTimeline(long startNanos) {
        this.started = startNanos;
    }

    public long started() {
        return started;
    }

    /** Takes one event that arrived at {@code now}. */
    public void accept(BuildEvent event, long now) {
        switch (event.getKindCase()) {
            case STEP -> step(event.getStep(), now);
            case LOG -> output.accept(event.getLog()).forEach(this::log);
            case QUEUE -> queue(event.getQueue(), now);
            case TRANSFER -> transfer(event.getTransfer(), now);
            default -> {}
        }
    }

    private void step(StepEvent e, long now) {
        if (e.getStatus() == StepEvent.Status.DONE || e.getStatus() == StepEvent.Status.FAILED) {
            output.end(e.getStageIndex(), e.getStepIndex()).forEach(this::log); // a last line without newline
        }
        String key = e.getStageIndex() + "/" + e.getStepIndex();
        Step s = steps.get(key);
        if (s == null) {
            // a step first heard of when it ends ran for the millis it reports
            long start = e.getStatus() == StepEvent.Status.DONE ? now - e.getMillis() * 1_000_000 : now;
            s = new Step(
                    e.getStageIndex(), e.getStepIndex(), e.getStageName(), e.getDescription(), e.getWorker(), start);
            steps.put(key, s);
        }
        if (!e.getWorker().isEmpty()) {
            s.worker = e.getWorker();
        }
        if (!e.getDescription().isEmpty()) {
            s.description = e.getDescription();
        }
        switch (e.getStatus()) {
            case STARTED -> {
                s.state = State.RUNNING;
                s.start = now;
                s.end = -1;
            }
            case CACHED -> {
                s.state = State.CACHED;
                s.end = now;
            }
            case DONE -> {
                s.state = State.DONE;
                s.end = now;
            }
            case FAILED -> {
                s.state = State.FAILED;
                s.end = now;
            }
            default -> {}
        }
    }

    private void log(OutputLines.Line line) {
        Step s = steps.get(line.stageIndex() + "/" + line.stepIndex());
        if (s == null) {
            return;
        }
        s.tail.addLast(line.text());
        while (s.tail.size() > TAIL) {
            s.tail.removeFirst();
        }
    }

    private void queue(QueueEvent e, long now) {
        if (e.getWorker().isEmpty()) {
            if (!e.getNote().isEmpty()) {
                queueNote = e.getNote();
            }
            // said again (the farm lost its last worker): the wait began at the first word
            waiting.putIfAbsent(e.getStageIndex(), new QueueWait(e.getStageIndex(), e.getStageName(), "", now, -1));
            return;
        }
        queueNote = "";
        QueueWait queued = waiting.remove(e.getStageIndex());
        long start = queued != null ? queued.start() : now - e.getWaitedMillis() * 1_000_000;
        waits.add(new QueueWait(e.getStageIndex(), e.getStageName(), e.getWorker(), start, now));
    }

    private void transfer(TransferEvent e, long now) {
        long start = now - e.getMillis() * 1_000_000;
        Step s = steps.get(e.getStageIndex() + "/" + e.getStepIndex());
        if (s != null && start < s.start) {
            start = s.start; // inside its step on the trace, whatever the network's delay
        }
        transfers.add(new Transfer(
                e.getStageIndex(), e.getStepIndex(), e.getWorker(), e.getWhat(), e.getBytes(), start, now));
    }

    /** Every step heard of, in the order first heard. */
    public List<Step> steps() {
        return List.copyOf(steps.values());
    }

    /** Stages queued now, waiting for a worker. */
    public List<QueueWait> queued() {
        return List.copyOf(waiting.values());
    }

    /** What the farm said of the queue while stages wait (no worker at all), else empty. */
    public String queueNote() {
        return waiting.isEmpty() ? "" : queueNote;
    }

    /** Queue waits that ended with a worker taking the stage. */
    public List<QueueWait> queueWaits() {
        return List.copyOf(waits);
    }

    public List<Transfer> transfers() {
        return List.copyOf(transfers);
    }

    /** Steps after FROM that ran (done or failed) and that came from the cache. */
    public int stepsRun() {
        return (int) steps.values().stream()
                .filter(s -> s.index > 0 && (s.state == State.DONE || s.state == State.FAILED))
                .count();
    }

    public int stepsCached() {
        return (int) steps.values().stream()
                .filter(s -> s.index > 0 && s.state == State.CACHED)
                .count();
    }
}
