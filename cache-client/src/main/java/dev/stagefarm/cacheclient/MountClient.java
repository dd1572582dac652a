package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.CacheMountsGrpc;
import dev.stagefarm.proto.cache.DropMountsRequest;
import dev.stagefarm.proto.cache.GetMountHeadRequest;
import dev.stagefarm.proto.cache.ListMountsRequest;
import dev.stagefarm.proto.cache.MountHead;
import dev.stagefarm.proto.cache.MountSharing;
import dev.stagefarm.proto.cache.PublishMountRequest;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * The client of shared cache mounts ({@code stagefarm.v1.CacheMounts}): uses and leases, heads,
 * publishes. The manifests and files are blobs: move them with {@link CacheClient}. Like the
 * blob calls, each call rides out a cache-server that is away for a while ({@link Retry}): a
 * step that opens its cache mount during a cache-server restart waits for it instead of failing.
 */
public final class MountClient {

    private static final long UNARY_DEADLINE_SECONDS = 60;
    /** A publish merges a manifest of up to millions of entries on the server. */
    private static final long PUBLISH_DEADLINE_SECONDS = 300;

    private final CacheMountsGrpc.CacheMountsStub async;
    private final CacheMountsGrpc.CacheMountsBlockingStub blocking;
    private final String target;
    private final Runnable reconnect;

    /** @param reconnect makes the channel under it connect at once (see {@link Retry}) */
    public MountClient(Channel channel, Runnable reconnect) {
        this.async = CacheMountsGrpc.newStub(channel);
        this.blocking = CacheMountsGrpc.newBlockingStub(channel);
        this.target = channel.authority();
        this.reconnect = reconnect;
    }

    private <T> T retrying(Retry.Call<T> call) throws IOException {
        return Retry.whileUnavailable(target, reconnect, call);
    }

    /**
     * Starts a use of mount {@code id} and waits until it is granted: at once for SHARED and
     * PRIVATE, when the lease is free for LOCKED. Close the returned use when the step is done
     * (after publishing): that ends it, and passes a LOCKED lease on.
     *
     * @param onWaiting told how many uses are ahead while a LOCKED use waits
     * @param maxWait   how long to wait for the grant before giving up
     */
    public MountUse use(String id, MountSharing sharing, IntConsumer onWaiting, Duration maxWait) throws IOException {
        return retrying(() -> MountUse.open(async, id, sharing, onWaiting, maxWait, target));
    }

    public MountHead head(String id) throws IOException {
        return retrying(() -> {
            try {
                return blocking.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .getHead(GetMountHeadRequest.newBuilder().setId(id).build());
            } catch (StatusRuntimeException e) {
                throw CacheErrors.translate(e, "reading the head of cache mount " + id, null, target);
            }
        });
    }

    /**
     * Merges the delta stored as blob {@code delta} onto the mount's head, as part of {@code use}.
     *
     * @return the new head
     */
    public MountHead publish(MountUse use, Digest delta) throws IOException {
        return publish(use.id(), use.useId(), use.head().getGeneration(), delta);
    }

    /** The same, naming the use by its id; {@code baseGeneration} is the generation the step started from. */
    public MountHead publish(String id, String useId, long baseGeneration, Digest delta) throws IOException {
        // a restarted server has forgotten the use: it then refuses the publish (the step's
        // changes are dropped, as for any use whose lease was lost), which is not retried
        return retrying(() -> {
            try {
                return blocking.withDeadlineAfter(PUBLISH_DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .publish(PublishMountRequest.newBuilder()
                                .setId(id)
                                .setUseId(useId)
                                .setDeltaDigest(delta.toString())
                                .setBaseGeneration(baseGeneration)
                                .build())
                        .getHead();
            } catch (StatusRuntimeException e) {
                throw CacheErrors.translate(e, "publishing to cache mount " + id, null, target);
            }
        });
    }

    /** The mounts of the caller's team. */
    public List<MountHead> list() throws IOException {
        try {
            return blocking.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .listMounts(ListMountsRequest.getDefaultInstance())
                    .getMountsList();
        } catch (StatusRuntimeException e) {
            // a person's command: an unreachable server is said at once, not waited for
            throw CacheErrors.translate(e, "listing cache mounts", null, target);
        }
    }

    /** Forgets the named mounts of the caller's team, or all of them for an empty list. */
    public int drop(List<String> ids) throws IOException {
        try {
            return blocking.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .dropMounts(DropMountsRequest.newBuilder().addAllIds(ids).build())
                    .getDropped();
        } catch (StatusRuntimeException e) {
            throw CacheErrors.translate(e, "dropping cache mounts", null, target);
        }
    }
}
