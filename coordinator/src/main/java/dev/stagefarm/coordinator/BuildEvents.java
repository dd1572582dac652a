package dev.stagefarm.coordinator;

import dev.stagefarm.proto.farm.BuildEvent;
import io.grpc.stub.ServerCallStreamObserver;

/** A build's event stream to its client; stages report from several threads at once. */
final class BuildEvents {

    private final ServerCallStreamObserver<BuildEvent> stream;
    private boolean closed;

    BuildEvents(ServerCallStreamObserver<BuildEvent> stream) {
        this.stream = stream;
    }

    synchronized void send(BuildEvent event) {
        if (!closed && !stream.isCancelled()) {
            stream.onNext(event);
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
