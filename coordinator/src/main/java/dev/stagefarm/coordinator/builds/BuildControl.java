package dev.stagefarm.coordinator.builds;

import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.common.auth.Scopes;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildLogsRequest;
import dev.stagefarm.proto.farm.CancelBuildRequest;
import dev.stagefarm.proto.farm.CancelBuildResponse;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.ListBuildsResponse;
import dev.stagefarm.proto.farm.LogLine;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Locale;

/** The builds RPCs ({@code ListBuilds}, {@code CancelBuild}, {@code BuildLogs}) for the service edge. */
public final class BuildControl {

    private final BuildBook book;

    public BuildControl(BuildBook book) {
        this.book = book;
    }

    public void list(ListBuildsRequest request, StreamObserver<ListBuildsResponse> responses) {
        responses.onNext(book.list(Caller.current(), request));
        responses.onCompleted();
    }

    /**
     * Cancels through the build's own path, the one a client that goes away takes: a write token
     * of the build's team, or an admin token (which sees every build).
     */
    public void cancel(CancelBuildRequest request, StreamObserver<CancelBuildResponse> responses) {
        Caller caller = Caller.current();
        BuildRecord build;
        try {
            build = visible(caller, request.getBuildId());
        } catch (StatusRuntimeException e) {
            responses.onError(e);
            return;
        }
        if (!caller.may(Caller.Scope.WRITE) && !BuildBook.seesAll(caller)) {
            responses.onError(Status.PERMISSION_DENIED
                    .withDescription("token '" + caller.name() + "' of team " + caller.team() + " has the scopes "
                            + Scopes.names(caller.scopes()) + ", but cancelling a build needs the write scope (or"
                            + " admin); use a token that has it")
                    .asRuntimeException());
            return;
        }
        String by = caller.name().equals("anonymous") ? "" : " by token '" + caller.name() + "'";
        if (!build.cancel("build cancelled" + by + " (stagefarm builds cancel)")) {
            responses.onError(Status.FAILED_PRECONDITION
                    .withDescription("build " + build.id() + " has already ended ("
                            + build.state().name().toLowerCase(Locale.ROOT)
                            + " or being cancelled): nothing to cancel")
                    .asRuntimeException());
            return;
        }
        responses.onNext(
                CancelBuildResponse.newBuilder().setBuild(build.summary(false)).build());
        responses.onCompleted();
    }

    /** The build's kept events; with follow, new ones until it ends (or the caller goes away). */
    public void logs(BuildLogsRequest request, StreamObserver<BuildEvent> responses) {
        BuildRecord build;
        try {
            build = visible(Caller.current(), request.getBuildId());
        } catch (StatusRuntimeException e) {
            responses.onError(e);
            return;
        }
        var stream = (ServerCallStreamObserver<BuildEvent>) responses;
        Object ready = new Object();
        stream.setOnReadyHandler(() -> {
            synchronized (ready) {
                ready.notifyAll();
            }
        });
        Thread.ofVirtual().name("build-logs-" + build.id()).start(() -> {
            try {
                long cursor = 0;
                while (!stream.isCancelled()) {
                    BuildLog.Batch batch = build.log().read(cursor, Duration.ofSeconds(1));
                    if (batch.dropped() > 0) {
                        stream.onNext(BuildEvent.newBuilder()
                                .setLog(LogLine.newBuilder()
                                        .setStageIndex(-1)
                                        .setText("[" + batch.dropped() + " earlier events dropped: the coordinator"
                                                + " keeps the last " + (batch.ended() ? "256 KiB" : "4 MiB")
                                                + " of a build's log]"))
                                .build());
                    }
                    for (BuildEvent e : batch.events()) {
                        awaitReady(stream, ready);
                        stream.onNext(e);
                    }
                    cursor = batch.next();
                    if (batch.ended() || !request.getFollow()) {
                        break;
                    }
                }
                stream.onCompleted();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (StatusRuntimeException | IllegalStateException gone) {
                // the caller went away
            }
        });
    }

    private static void awaitReady(ServerCallStreamObserver<?> stream, Object ready) throws InterruptedException {
        synchronized (ready) {
            while (!stream.isReady() && !stream.isCancelled()) {
                ready.wait(200);
            }
        }
    }

    /** A build the caller may see; others' builds are answered as unknown, so ids tell nothing. */
    private BuildRecord visible(Caller caller, String id) {
        if (id.isBlank()) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("give a build id: `stagefarm builds` lists them")
                    .asRuntimeException();
        }
        return book.find(id)
                .filter(b -> BuildBook.maySee(caller, b))
                .orElseThrow(() -> Status.NOT_FOUND
                        .withDescription("no build " + id + " among those your token may see (running, queued, or"
                                + " the last " + BuildBook.FINISHED_KEPT + " finished): `stagefarm builds` lists them")
                        .asRuntimeException());
    }
}
