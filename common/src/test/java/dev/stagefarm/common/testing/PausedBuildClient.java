package dev.stagefarm.common.testing;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A build's client that reads none of its events until told to, as a stopped terminal or a
 * stalled link would: gRPC's flow control then tells the coordinator it is not ready.
 */
public final class PausedBuildClient implements ClientResponseObserver<BuildRequest, BuildEvent> {

    private final List<BuildEvent> received = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final CompletableFuture<ClientCallStreamObserver<BuildRequest>> call = new CompletableFuture<>();

    private PausedBuildClient() {}

    /** Submits {@code request} and reads nothing of the answer. */
    public static PausedBuildClient submit(Channel channel, BuildRequest request) {
        PausedBuildClient client = new PausedBuildClient();
        CoordinatorGrpc.newStub(channel).build(request, client);
        return client;
    }

    /** Reads every event from now on. */
    public void readAll() throws Exception {
        call.get(30, TimeUnit.SECONDS).request(Integer.MAX_VALUE);
    }

    /** Goes away, as Ctrl-C would. */
    public void cancel() throws Exception {
        call.get(30, TimeUnit.SECONDS).cancel("the client went away", null);
    }

    /** Waits for the stream's end (an error too); returns every event read. */
    public List<BuildEvent> awaitEnd(Duration within) throws Exception {
        ended.handle((v, t) -> null).get(within.toMillis(), TimeUnit.MILLISECONDS);
        return List.copyOf(received);
    }

    /** Whether the stream ended without an error; call after {@link #awaitEnd}. */
    public boolean completed() {
        return ended.isDone() && !ended.isCompletedExceptionally();
    }

    public List<BuildEvent> received() {
        return List.copyOf(received);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<BuildRequest> requests) {
        requests.disableAutoRequestWithInitial(0);
        call.complete(requests);
    }

    @Override
    public void onNext(BuildEvent event) {
        received.add(event);
    }

    @Override
    public void onError(Throwable t) {
        ended.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
        ended.complete(null);
    }
}
