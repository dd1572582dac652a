package dev.stagefarm.cacheclient;

import dev.stagefarm.proto.cache.CacheMountsGrpc;
import dev.stagefarm.proto.cache.MountHead;
import dev.stagefarm.proto.cache.MountSharing;
import dev.stagefarm.proto.cache.UseMountRequest;
import dev.stagefarm.proto.cache.UseMountResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/**
 * One step's open use of a shared cache mount: the open {@code Use} stream. While it is open a
 * LOCKED use holds the farm-wide lease; {@link #close()} ends it. If this process dies the
 * connection closes and the server ends the use by itself.
 */
public final class MountUse implements AutoCloseable {

    private final String id;
    private final UseMountResponse.Granted granted;
    private final ClientCallStreamObserver<UseMountRequest> requests;
    private final CompletableFuture<Void> ended;

    private MountUse(
            String id,
            UseMountResponse.Granted granted,
            ClientCallStreamObserver<UseMountRequest> requests,
            CompletableFuture<Void> ended) {
        this.id = id;
        this.granted = granted;
        this.requests = requests;
        this.ended = ended;
    }

    static MountUse open(
            CacheMountsGrpc.CacheMountsStub stub,
            String id,
            MountSharing sharing,
            IntConsumer onWaiting,
            Duration maxWait,
            String target)
            throws IOException {
        CompletableFuture<UseMountResponse.Granted> grant = new CompletableFuture<>();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        CompletableFuture<ClientCallStreamObserver<UseMountRequest>> call = new CompletableFuture<>();
        stub.use(new ClientResponseObserver<UseMountRequest, UseMountResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<UseMountRequest> requestStream) {
                call.complete(requestStream);
            }

            @Override
            public void onNext(UseMountResponse response) {
                switch (response.getEventCase()) {
                    case WAITING -> onWaiting.accept(response.getWaiting().getAhead());
                    case GRANTED -> grant.complete(response.getGranted());
                    default -> {}
                }
            }

            @Override
            public void onError(Throwable t) {
                grant.completeExceptionally(t);
                ended.complete(null);
            }

            @Override
            public void onCompleted() {
                grant.completeExceptionally(Status.UNAVAILABLE
                        .withDescription("the cache-server ended the use before granting it")
                        .asRuntimeException());
                ended.complete(null);
            }
        });
        ClientCallStreamObserver<UseMountRequest> requests = call.join();
        requests.onNext(
                UseMountRequest.newBuilder().setId(id).setSharing(sharing).build());
        try {
            return new MountUse(id, grant.get(maxWait.toMillis(), TimeUnit.MILLISECONDS), requests, ended);
        } catch (TimeoutException e) {
            requests.cancel("gave up waiting for cache mount " + id, null);
            throw new CacheException(
                    "cache mount " + id + " was not granted within " + maxWait + " (another step holds its lock)",
                    Status.Code.DEADLINE_EXCEEDED,
                    e);
        } catch (InterruptedException e) {
            requests.cancel("interrupted", e);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("waiting for cache mount " + id);
        } catch (ExecutionException e) {
            requests.cancel("failed", e.getCause());
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw CacheErrors.translate(s, "using cache mount " + id, null, target);
            }
            throw new IOException("using cache mount " + id + ": " + e.getCause(), e.getCause());
        }
    }

    public String id() {
        return id;
    }

    public String useId() {
        return granted.getUseId();
    }

    /** False when the step works on a copy whose changes are dropped (PRIVATE while busy, or no write scope). */
    public boolean publishes() {
        return granted.getPublishes();
    }

    /** The state the step starts from. */
    public MountHead head() {
        return granted.getHead();
    }

    /** Ends the use (half-closes the stream) and waits briefly for the server to confirm. Never throws. */
    @Override
    public void close() {
        try {
            requests.onCompleted();
            ended.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            requests.cancel("interrupted while ending the use", e);
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            // the server did not confirm: cancelling ends the use on its side all the same
            requests.cancel("ending the use", null);
        }
    }
}
