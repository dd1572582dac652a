package dev.stagefarm.coordinator;

import dev.stagefarm.proto.farm.BuildEvent;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A build's event stream to its client; stages report from several threads at once. */
final class BuildEvents {

    private final ServerCallStreamObserver<BuildEvent> stream;
    private boolean closed;

    private final List<Runnable> onCancel = new CopyOnWriteArrayList<>();

    /** Call from the RPC method itself: gRPC takes the cancel handler only there. */
    BuildEvents(ServerCallStreamObserver<BuildEvent> stream) {
        this.stream = stream;
        stream.setOnCancelHandler(() -> onCancel.forEach(Runnable::run));
    }

    /** Runs {@code action} when the client goes away (Ctrl-C, a lost connection), at once if it has. */
    void onCancel(Runnable action) {
        onCancel.add(action);
        if (cancelled()) {
            action.run();
        }
    }

    synchronized void send(BuildEvent event) {
        if (!closed && !stream.isCancelled()) {
            stream.onNext(event);
        }
    }

    /** Hands on what a stage's job reports: its steps, their output, its queue wait, its transfers. */
    void forward(dev.stagefarm.proto.farm.JobEvent event) {
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

    synchronized void complete() {
        if (!closed) {
            closed = true;
            stream.onCompleted();
        }
    }

    synchronized void fail(Throwable t) {
        if (!closed) {
            closed = true;
            stream.onError(t);
        }
    }
}
