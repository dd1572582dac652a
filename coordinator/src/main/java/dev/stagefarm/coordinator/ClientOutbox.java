package dev.stagefarm.coordinator;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.LogLine;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a build's client has yet to read, sent only as fast as it reads (gRPC's {@code isReady} and
 * on-ready handler). A client that reads slowly or not at all (a stopped terminal, a slow link)
 * must not make the coordinator hold a flooding build's output without bound: past
 * {@link #MAX_PENDING_BYTES} the output is dropped, and the client told once where to read the
 * log instead; step, result and error events are always kept, so the client still learns how the
 * build went. Pending bytes of every client add up in {@code stagefarm_client_pending_bytes}.
 */
final class ClientOutbox {

    static final long MAX_PENDING_BYTES = 8L * 1024 * 1024;

    private final ServerCallStreamObserver<BuildEvent> stream;
    private final long maxPendingBytes;
    private final AtomicLong farmPending;
    private final ArrayDeque<BuildEvent> queue = new ArrayDeque<>();
    private long pending;
    private boolean dropping;
    private volatile String buildId = "BUILD";
    private Runnable ending;
    private boolean ended;

    /** Call from the RPC method itself: gRPC takes the on-ready handler only there. */
    ClientOutbox(ServerCallStreamObserver<BuildEvent> stream, long maxPendingBytes, AtomicLong farmPending) {
        this.stream = stream;
        this.maxPendingBytes = maxPendingBytes;
        this.farmPending = farmPending;
        stream.setOnReadyHandler(this::drain);
    }

    /** The build's id, for the note that names {@code stagefarm builds logs ID}. */
    void buildId(String id) {
        this.buildId = id;
    }

    void send(BuildEvent event) {
        synchronized (this) {
            if (ending != null || ended) {
                return;
            }
            if (event.hasLog()) {
                if (dropping) {
                    return;
                }
                if (pending + event.getSerializedSize() > maxPendingBytes) {
                    dropping = true;
                    event = droppedNote();
                }
            }
            queue.addLast(event);
            add(event.getSerializedSize());
        }
        drain();
    }

    /** Ends the stream once the client has read everything before. */
    void complete() {
        end(stream::onCompleted);
    }

    /** Ends the stream with this error once the client has read everything before. */
    void fail(Throwable t) {
        end(() -> stream.onError(t));
    }

    /** The client has gone: nothing more is sent, and what was pending is let go. */
    synchronized void discard() {
        ended = true;
        queue.clear();
        add(-pending);
    }

    synchronized long pendingBytes() {
        return pending;
    }

    private void end(Runnable last) {
        synchronized (this) {
            if (ending != null || ended) {
                return;
            }
            ending = last;
        }
        drain();
    }

    private synchronized void drain() {
        if (ended) {
            return;
        }
        if (stream.isCancelled()) {
            discard();
            return;
        }
        while (!queue.isEmpty() && stream.isReady()) {
            BuildEvent next = queue.removeFirst();
            add(-next.getSerializedSize());
            stream.onNext(next);
        }
        if (queue.isEmpty() && ending != null) {
            ended = true;
            ending.run();
        }
    }

    private void add(long bytes) {
        pending += bytes;
        farmPending.addAndGet(bytes);
    }

    private BuildEvent droppedNote() {
        return BuildEvent.newBuilder()
                .setLog(LogLine.newBuilder()
                        .setStageIndex(-1)
                        .setText("[output dropped from here on: this client reads the build's output more slowly than"
                                + " the build writes it, and the coordinator holds at most "
                                + maxPendingBytes / (1024 * 1024) + " MiB for it; `stagefarm builds logs " + buildId
                                + "` shows the log the coordinator keeps]"))
                .build();
    }
}
