package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.builds.BuildRecord;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.StageReport;
import dev.stagefarm.proto.farm.StepEvent;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A build's event stream to its client; stages report from several threads at once. Every event
 * also goes to the build's record ({@code stagefarm builds}, the web view), even once the client
 * has gone; the client gets them as fast as it reads ({@link ClientOutbox}).
 */
final class BuildEvents {

    static final String CLIENT_WENT_AWAY = "build cancelled: its client went away";

    private final ServerCallStreamObserver<BuildEvent> stream;
    private final ClientOutbox outbox;
    private volatile BuildRecord record;

    private final List<Consumer<String>> onCancel = new CopyOnWriteArrayList<>();
    /** Steps ("stage/step") shown done while the build waited for another build's run of them. */
    private final Set<String> doneInOtherRun = ConcurrentHashMap.newKeySet();

    private volatile String cancelled;

    /**
     * Call from the RPC method itself: gRPC takes the cancel and on-ready handlers only there.
     *
     * @param clientPending the bytes every build's client has yet to read, which this one's add to
     */
    BuildEvents(ServerCallStreamObserver<BuildEvent> stream, AtomicLong clientPending) {
        this.stream = stream;
        this.outbox = new ClientOutbox(stream, ClientOutbox.MAX_PENDING_BYTES, clientPending);
        stream.setOnCancelHandler(() -> {
            outbox.discard();
            cancel(CLIENT_WENT_AWAY);
        });
    }

    /** The build's record from now on hears every event. */
    void record(BuildRecord record) {
        this.record = record;
        outbox.buildId(record.id());
        record.onCancel(this::cancel);
    }

    /**
     * Runs {@code action} with the reason when the build is to stop: its client went away (Ctrl-C,
     * a lost connection) or {@code builds cancel} asked; at once if that happened already.
     */
    void onCancel(Consumer<String> action) {
        onCancel.add(action);
        String why = cancelled != null ? cancelled : stream.isCancelled() ? CLIENT_WENT_AWAY : null;
        if (why != null) {
            action.accept(why);
        }
    }

    /** Stops the build, as its client going away would. */
    void cancel(String why) {
        synchronized (this) {
            if (cancelled != null) {
                return;
            }
            cancelled = why;
        }
        BuildRecord r = record;
        if (r != null) {
            r.cancel(why); // tells the record a failure from now on is a cancellation
        }
        onCancel.forEach(a -> a.accept(why));
    }

    void stageQueued(int index, String name, int steps) {
        BuildRecord r = record;
        if (r != null) {
            r.stageQueued(index, name, steps);
        }
    }

    void stageFinished(StageReport report) {
        BuildRecord r = record;
        if (r != null) {
            r.stageFinished(report);
        }
    }

    /** A step the cache answered: no worker ran it. */
    void stepCached(int stageIndex, Stage stage, int step, String description) {
        send(BuildEvent.newBuilder()
                .setStep(StepEvent.newBuilder()
                        .setStageIndex(stageIndex)
                        .setStageName(stage.displayName())
                        .setStepIndex(step)
                        .setDescription(description)
                        .setStatus(StepEvent.Status.CACHED))
                .build());
    }

    /**
     * A step of another build's run that this build waits for ({@link StageRuns}: the same steps),
     * shown under this build's stage so that its user sees the steps run, as in that build. A step
     * seen done this way is not shown again as CACHED when the build then finds it in the cache.
     */
    void otherRunStep(int stageIndex, String stageName, StepEvent step) {
        String description = step.getDescription();
        String theirs = "[" + step.getStageName() + " ";
        if (description.startsWith(theirs)) {
            description = "[" + stageName + " " + description.substring(theirs.length());
        }
        if (step.getStatus() == StepEvent.Status.DONE) {
            doneInOtherRun.add(stageIndex + "/" + step.getStepIndex());
        }
        send(BuildEvent.newBuilder()
                .setStep(step.toBuilder()
                        .setStageIndex(stageIndex)
                        .setStageName(stageName)
                        .setDescription(description))
                .build());
    }

    void send(BuildEvent event) {
        if (event.hasStep()
                && event.getStep().getStatus() == StepEvent.Status.CACHED
                && doneInOtherRun.contains(
                        event.getStep().getStageIndex() + "/" + event.getStep().getStepIndex())) {
            return;
        }
        BuildRecord r = record;
        if (r != null) {
            r.accept(event);
        }
        outbox.send(event);
    }

    /** Hands on what a stage's job reports: its steps, their output, its queue wait, its transfers. */
    void forward(JobEvent event) {
        BuildEvent.Builder out = BuildEvent.newBuilder();
        switch (event.getKindCase()) {
            case STEP -> send(out.setStep(event.getStep()).build());
            case LOG -> send(out.setLog(event.getLog()).build());
            case QUEUE -> send(out.setQueue(event.getQueue()).build());
            case TRANSFER -> send(out.setTransfer(event.getTransfer()).build());
            default -> {}
        }
    }

    synchronized boolean cancelled() {
        return stream.isCancelled();
    }

    void complete() {
        outbox.complete();
    }

    void fail(Throwable t) {
        outbox.fail(t);
    }
}
