package dev.stagefarm.cli.build;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.FarmInfoRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * A build's events, across coordinator restarts: when the coordinator goes away mid-build (its
 * stream ends UNAVAILABLE), the build is submitted again, at most {@link #ATTEMPTS} times in all,
 * once the coordinator answers again. The new coordinator finds the finished steps in the cache
 * and adopts the jobs still running on workers, so a resubmission costs little work.
 */
final class ResubmittingEvents implements Iterator<BuildEvent> {

    static final int ATTEMPTS = 5;

    /** How long one attempt waits for the coordinator to answer again. */
    private static final Duration COMEBACK = Duration.ofSeconds(30);

    private final CoordinatorGrpc.CoordinatorBlockingStub coordinator;
    private final BuildRequest request;
    private final PrintStream info;
    private Iterator<BuildEvent> events;
    private int attempt = 1;

    ResubmittingEvents(CoordinatorGrpc.CoordinatorBlockingStub coordinator, BuildRequest request, PrintStream info) {
        this.coordinator = coordinator;
        this.request = request;
        this.info = info;
        this.events = coordinator.build(request);
    }

    @Override
    public boolean hasNext() {
        while (true) {
            try {
                return events.hasNext();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt >= ATTEMPTS) {
                    throw e;
                }
                resubmit();
            }
        }
    }

    @Override
    public BuildEvent next() {
        return events.next();
    }

    private void resubmit() {
        attempt++;
        info.println("coordinator went away; resubmitting (attempt " + attempt + " of " + ATTEMPTS + ")");
        try {
            // waits for the coordinator to listen again instead of failing at once
            coordinator
                    .withWaitForReady()
                    .withDeadlineAfter(COMEBACK.toMillis(), TimeUnit.MILLISECONDS)
                    .getFarmInfo(FarmInfoRequest.getDefaultInstance());
        } catch (StatusRuntimeException notBack) {
            if (attempt >= ATTEMPTS) {
                throw new StatusRuntimeException(
                        Status.UNAVAILABLE.withDescription("the coordinator went away and did not come back within "
                                + (ATTEMPTS - 1) + " attempts of " + COMEBACK.toSeconds() + " s"));
            }
            events = failing(notBack);
            return;
        }
        events = coordinator.build(request.toBuilder().setResubmission(attempt).build());
    }

    /** An attempt that found no coordinator: the next hasNext tries again. */
    private static Iterator<BuildEvent> failing(StatusRuntimeException e) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                throw new StatusRuntimeException(Status.UNAVAILABLE.withCause(e));
            }

            @Override
            public BuildEvent next() {
                throw new IllegalStateException();
            }
        };
    }
}
