package dev.stagefarm.cacheserver.mounts;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.MountKey;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.proto.cache.CacheMountsGrpc;
import dev.stagefarm.proto.cache.DropMountsRequest;
import dev.stagefarm.proto.cache.DropMountsResponse;
import dev.stagefarm.proto.cache.GetMountHeadRequest;
import dev.stagefarm.proto.cache.ListMountsRequest;
import dev.stagefarm.proto.cache.ListMountsResponse;
import dev.stagefarm.proto.cache.MountHead;
import dev.stagefarm.proto.cache.MountSharing;
import dev.stagefarm.proto.cache.PublishMountRequest;
import dev.stagefarm.proto.cache.PublishMountResponse;
import dev.stagefarm.proto.cache.UseMountRequest;
import dev.stagefarm.proto.cache.UseMountResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CacheMounts RPCs: uses and leases ({@link MountUses}), heads and publishes
 * ({@link MountStore}), all in the caller's team's namespace ({@link Caller#team()}).
 */
public final class CacheMountService extends CacheMountsGrpc.CacheMountsImplBase {

    private static final Logger log = LoggerFactory.getLogger(CacheMountService.class);

    private final MountStore store;
    private final MountUses uses;
    private final MountMetrics metrics;

    public CacheMountService(MountStore store, MountUses uses, MountMetrics metrics) {
        this.store = store;
        this.uses = uses;
        this.metrics = metrics;
    }

    @Override
    public StreamObserver<UseMountRequest> use(StreamObserver<UseMountResponse> response) {
        Caller caller = Caller.current();
        return new UseStream(caller, (ServerCallStreamObserver<UseMountResponse>) response);
    }

    /** A unary call's answer, or the domain error it becomes a status for. */
    @FunctionalInterface
    private interface Answer<T> {
        T get() throws StoreException, MountException;
    }

    /** Answers once, turning each domain error into its status: the one edge of the unary calls. */
    private <T> void answer(StreamObserver<T> response, Answer<T> answer) {
        try {
            T value = answer.get();
            response.onNext(value);
            response.onCompleted();
        } catch (StatusRuntimeException e) {
            response.onError(e);
        } catch (MountException e) {
            response.onError(status(e));
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }

    @Override
    public void getHead(GetMountHeadRequest request, StreamObserver<MountHead> response) {
        answer(response, () -> store.head(key(request.getId(), Caller.Scope.READ)));
    }

    @Override
    public void publish(PublishMountRequest request, StreamObserver<PublishMountResponse> response) {
        answer(response, () -> {
            MountKey key = key(request.getId(), Caller.Scope.WRITE);
            if (!Digest.isValid(request.getDeltaDigest())) {
                throw Statuses.invalidArgument(
                        "Publish needs the digest of a stored MountDelta, not \"" + request.getDeltaDigest() + "\"");
            }
            uses.checkPublishing(key, request.getUseId());
            MountHead head = store.publish(key, Digest.parse(request.getDeltaDigest()));
            log.debug(
                    "cache-server: cache mount {} at generation {} (the step started from {})",
                    key,
                    head.getGeneration(),
                    request.getBaseGeneration());
            return PublishMountResponse.newBuilder().setHead(head).build();
        });
    }

    @Override
    public void listMounts(ListMountsRequest request, StreamObserver<ListMountsResponse> response) {
        answer(
                response,
                () -> ListMountsResponse.newBuilder()
                        .addAllMounts(store.list(caller(Caller.Scope.READ).team()))
                        .build());
    }

    @Override
    public void dropMounts(DropMountsRequest request, StreamObserver<DropMountsResponse> response) {
        answer(
                response,
                () -> DropMountsResponse.newBuilder()
                        .setDropped(store.drop(caller(Caller.Scope.ADMIN).team(), request.getIdsList()))
                        .build());
    }

    /** One Use stream: the first request opens the use, the end of the stream ends it. */
    private final class UseStream implements StreamObserver<UseMountRequest>, MountUses.Listener {

        private final Caller caller;
        private final ServerCallStreamObserver<UseMountResponse> call;
        private MountUses.Use use;
        private boolean granted;
        private boolean done;

        UseStream(Caller caller, ServerCallStreamObserver<UseMountResponse> call) {
            this.caller = caller;
            this.call = call;
            // a cancelled call or a lost connection (keepalive) ends the use: a lease dies with its worker
            call.setOnCancelHandler(this::end);
        }

        @Override
        public void onNext(UseMountRequest request) {
            synchronized (this) {
                if (use != null || done) {
                    fail(Statuses.invalidArgument("a Use stream opens one use: send one UseMountRequest"));
                    return;
                }
            }
            MountKey key;
            MountSharing sharing = request.getSharing() == MountSharing.MOUNT_SHARING_UNSPECIFIED
                            || request.getSharing() == MountSharing.UNRECOGNIZED
                    ? MountSharing.MOUNT_SHARING_SHARED
                    : request.getSharing();
            try {
                key = key(
                        caller,
                        request.getId(),
                        sharing == MountSharing.MOUNT_SHARING_LOCKED ? Caller.Scope.WRITE : Caller.Scope.READ);
            } catch (StatusRuntimeException e) {
                fail(e);
                return;
            }
            MountUses.Use opened = uses.open(key, sharing, caller.may(Caller.Scope.WRITE), this);
            synchronized (this) {
                use = opened;
                if (!done) {
                    return;
                }
            }
            uses.end(opened); // the call ended while the use was being opened
        }

        @Override
        public void waiting(int ahead) {
            synchronized (this) {
                if (!granted && !done) {
                    call.onNext(UseMountResponse.newBuilder()
                            .setWaiting(UseMountResponse.Waiting.newBuilder().setAhead(ahead))
                            .build());
                }
            }
        }

        @Override
        public void granted(MountUses.Use grantedUse) {
            metrics.waited(grantedUse.sharing, Duration.ofNanos(System.nanoTime() - grantedUse.openedNanos));
            MountHead head;
            try {
                head = store.head(grantedUse.key);
            } catch (StoreException e) {
                uses.end(grantedUse);
                fail(Statuses.of(e));
                return;
            }
            synchronized (this) {
                if (done) {
                    return;
                }
                granted = true;
                call.onNext(UseMountResponse.newBuilder()
                        .setGranted(UseMountResponse.Granted.newBuilder()
                                .setUseId(grantedUse.id)
                                .setPublishes(grantedUse.publishes)
                                .setHead(head))
                        .build());
            }
        }

        @Override
        public void onError(Throwable t) {
            end(); // the client cancelled or its connection broke
        }

        @Override
        public void onCompleted() {
            end();
            synchronized (this) {
                if (!call.isCancelled()) {
                    call.onCompleted();
                }
            }
        }

        private void fail(StatusRuntimeException e) {
            synchronized (this) {
                if (done) {
                    return;
                }
                done = true;
                call.onError(e);
            }
        }

        private void end() {
            MountUses.Use ending;
            synchronized (this) {
                done = true;
                ending = use;
            }
            if (ending != null) {
                uses.end(ending);
            }
        }
    }

    private static MountKey key(String id, Caller.Scope scope) {
        return key(caller(scope), id, scope);
    }

    private static MountKey key(Caller caller, String id, Caller.Scope scope) {
        if (!caller.may(scope)) {
            throw denied(caller, scope);
        }
        if (id.isEmpty() || id.getBytes(StandardCharsets.UTF_8).length > MountKey.MAX_ID_BYTES) {
            throw Statuses.invalidArgument("a cache mount needs an id of 1 to " + MountKey.MAX_ID_BYTES + " bytes");
        }
        return new MountKey(caller.team(), id);
    }

    private static Caller caller(Caller.Scope scope) {
        Caller caller = Caller.current();
        if (!caller.may(scope)) {
            throw denied(caller, scope);
        }
        return caller;
    }

    private static StatusRuntimeException denied(Caller caller, Caller.Scope scope) {
        return Status.PERMISSION_DENIED
                .withDescription("token " + caller.name() + " lacks the "
                        + scope.name().toLowerCase(Locale.ROOT) + " scope this cache-mount call needs")
                .asRuntimeException();
    }

    private static StatusRuntimeException status(MountException e) {
        Code code = switch (e.reason()) {
            case INVALID -> Code.INVALID_ARGUMENT;
            case BLOBS_MISSING, USE_ENDED -> Code.FAILED_PRECONDITION;
            case NOT_PUBLISHING -> Code.PERMISSION_DENIED;
        };
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(e.getMessage())
                .addDetails(Any.pack(ErrorInfo.newBuilder()
                        .setReason("MOUNT_" + e.reason().name())
                        .setDomain(Statuses.DOMAIN)
                        .build()))
                .build());
    }
}
