package dev.stagefarm.coordinator.builds;

import dev.stagefarm.proto.farm.BuildError;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.StageReport;
import dev.stagefarm.proto.farm.StageTimeline;
import dev.stagefarm.proto.farm.StepEvent;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * What the coordinator remembers of one build for {@code stagefarm builds} and the web view: its
 * team, state, times, a timeline per stage and its (capped) log. Fed by the build's own events, so
 * it sees exactly what the build's client sees, whether or not that client is still there.
 */
public final class BuildRecord {

    private final String id;
    private final String team;
    private final String dockerfileName;
    private final String target;
    private final InstantSource clock;
    private final Instant submitted;
    private final BuildLog log = new BuildLog();
    private final TreeMap<Integer, StageRecord> stages = new TreeMap<>();
    private final Runnable onEnd;

    private BuildSummary.State state = BuildSummary.State.QUEUED;
    private Instant started;
    private Instant finished;
    private String error = "";
    private int stagesTotal;
    /** Set once someone asks the build to stop; a failure after it is a cancellation. */
    private String cancelledBecause;

    private Consumer<String> canceller;

    BuildRecord(String id, String team, String dockerfileName, String target, InstantSource clock, Runnable onEnd) {
        this.id = id;
        this.team = team;
        this.dockerfileName = dockerfileName;
        this.target = target;
        this.clock = clock;
        this.submitted = clock.instant();
        this.onEnd = onEnd;
    }

    public String id() {
        return id;
    }

    public String team() {
        return team;
    }

    public BuildLog log() {
        return log;
    }

    public synchronized boolean ended() {
        return finished != null;
    }

    public synchronized BuildSummary.State state() {
        return state;
    }

    synchronized Instant submitted() {
        return submitted;
    }

    /** How many stages the build will run (those its target needs), once known. */
    public synchronized void stagesPlanned(int count) {
        stagesTotal = count;
    }

    /** A stage's job went to the queue with this many steps (its FROM included). */
    public synchronized void stageQueued(int index, String name, int steps) {
        StageRecord s = stage(index, name);
        s.queued(clock.instant(), steps);
    }

    /** A stage's outcome is known: where it ran, when, whether from the cache. */
    public synchronized void stageFinished(StageReport report) {
        stage(report.getIndex(), report.getName()).finished(report, clock.instant());
    }

    /** Every step and log event the build's client gets. */
    public void accept(BuildEvent event) {
        switch (event.getKindCase()) {
            case STEP -> {
                step(event.getStep());
                log.add(event);
            }
            case LOG -> log.add(event);
            case RESULT -> {
                synchronized (this) {
                    for (StageReport r : event.getResult().getStagesList()) {
                        stage(r.getIndex(), r.getName()).finished(r, clock.instant());
                    }
                }
                end(BuildSummary.State.SUCCEEDED, "", event);
            }
            case ERROR -> {
                String why = event.getError().getMessage();
                BuildSummary.State how;
                synchronized (this) {
                    how = cancelledBecause != null ? BuildSummary.State.CANCELLED : BuildSummary.State.FAILED;
                }
                end(how, why, event);
            }
            case KIND_NOT_SET -> {}
        }
    }

    private synchronized void step(StepEvent e) {
        StageRecord s = stage(e.getStageIndex(), e.getStageName());
        s.step(e, clock.instant());
        if (started == null && (!e.getWorker().isEmpty() || e.getStatus() == StepEvent.Status.CACHED)) {
            started = clock.instant();
            state = BuildSummary.State.RUNNING;
        }
    }

    /** The build ended without a result or an error event (a coordinator fault): it failed. */
    public void endIfOpen() {
        end(
                BuildSummary.State.FAILED,
                "the coordinator failed running this build (see its log)",
                BuildEvent.newBuilder()
                        .setError(BuildError.newBuilder().setMessage("the coordinator failed running this build"))
                        .build());
    }

    private void end(BuildSummary.State how, String why, BuildEvent last) {
        synchronized (this) {
            if (finished != null) {
                return;
            }
            finished = clock.instant();
            state = how;
            error = why;
            for (StageRecord s : stages.values()) {
                s.stop(
                        finished,
                        how == BuildSummary.State.FAILED ? StageTimeline.State.FAILED : StageTimeline.State.CANCELLED);
            }
            canceller = null;
        }
        log.end(last);
        onEnd.run();
    }

    /** Who stops the build when {@link #cancel} is called (the build's own cancel path). */
    public void onCancel(Consumer<String> canceller) {
        String why;
        synchronized (this) {
            this.canceller = canceller;
            why = cancelledBecause;
        }
        if (why != null) {
            canceller.accept(why);
        }
    }

    /** Asks the build to stop: its queued jobs leave the queue, its running ones are killed. */
    public boolean cancel(String why) {
        Consumer<String> c;
        synchronized (this) {
            if (finished != null || cancelledBecause != null) {
                return false;
            }
            cancelledBecause = why;
            c = canceller;
        }
        if (c != null) {
            c.accept(why);
        }
        return true;
    }

    private StageRecord stage(int index, String name) {
        return stages.computeIfAbsent(index, i -> new StageRecord(i, name));
    }

    /** Counts for the team totals: stages queued and running now. */
    synchronized int stagesIn(StageTimeline.State wanted) {
        return (int) stages.values().stream().filter(s -> s.state() == wanted).count();
    }

    /** The build as {@code builds} and the web view show it. */
    public synchronized BuildSummary summary(boolean withStages) {
        BuildSummary.Builder b = BuildSummary.newBuilder()
                .setBuildId(id)
                .setTeam(team)
                .setState(state)
                .setSubmittedAt(submitted.toString())
                .setDockerfileName(dockerfileName)
                .setTarget(target)
                .setError(error)
                .setStagesTotal(Math.max(stagesTotal, stages.size()));
        if (started != null) {
            b.setStartedAt(started.toString());
        }
        if (finished != null) {
            b.setFinishedAt(finished.toString());
        }
        Set<String> workers = new LinkedHashSet<>();
        int stepsDone = 0;
        int stepsTotal = 0;
        int stagesDone = 0;
        for (StageRecord s : stages.values()) {
            StageTimeline t = s.timeline();
            t.getRunsList().forEach(r -> workers.add(r.getWorker()));
            stepsDone += t.getStepsDone();
            stepsTotal += t.getStepsTotal();
            if (t.getState() == StageTimeline.State.DONE || t.getState() == StageTimeline.State.CACHED) {
                stagesDone++;
            }
            if (withStages) {
                b.addStages(t);
            }
        }
        return b.addAllWorkers(workers)
                .setStepsDone(stepsDone)
                .setStepsTotal(stepsTotal)
                .setStagesDone(stagesDone)
                .build();
    }
}
