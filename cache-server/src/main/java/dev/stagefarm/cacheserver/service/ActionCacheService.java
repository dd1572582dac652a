package dev.stagefarm.cacheserver.service;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ActionCacheGrpc;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.GetActionResultRequest;
import dev.stagefarm.proto.cache.UpdateActionResultRequest;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ActionCache RPCs. A result is a hit only while every blob it lists is still stored:
 * a result whose layer is gone would send the build after bytes nobody has.
 */
public final class ActionCacheService extends ActionCacheGrpc.ActionCacheImplBase {

    private static final Logger log = LoggerFactory.getLogger(ActionCacheService.class);

    private final CallerStores stores;
    private final CacheMetrics metrics;

    public ActionCacheService(CallerStores stores, CacheMetrics metrics) {
        this.stores = stores;
        this.metrics = metrics;
    }

    @Override
    public void getActionResult(GetActionResultRequest request, StreamObserver<ActionResult> response) {
        String key = request.getKey();
        if (key.isEmpty()) {
            response.onError(Statuses.invalidArgument("GetActionResult needs a cache key"));
            return;
        }
        try {
            Optional<String> miss = lookUp(key, response);
            if (miss.isPresent()) {
                metrics.actionMiss();
                response.onError(Statuses.notFound(miss.get()));
            } else {
                metrics.actionHit();
                response.onCompleted();
            }
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }

    /** Sends the result and returns empty on a hit; returns why it is a miss otherwise. */
    private Optional<String> lookUp(String key, StreamObserver<ActionResult> response) throws StoreException {
        Optional<byte[]> stored = stores.current().getAction(key);
        if (stored.isEmpty()) {
            return Optional.of("no action result for key " + key);
        }
        ActionResult result;
        try {
            result = ActionResult.parseFrom(stored.get());
        } catch (InvalidProtocolBufferException e) {
            log.error("cache-server: the action result for {} is unreadable; treating it as a miss", key, e);
            return Optional.of("the action result for key " + key + " is unreadable; rebuild the step");
        }
        List<Digest> needed = new ArrayList<>();
        for (String blob : result.getBlobsList()) {
            if (!Digest.isValid(blob)) {
                return Optional.of("the action result for key " + key + " lists a bad digest " + blob);
            }
            needed.add(Digest.parse(blob));
        }
        Set<Digest> missing = stores.current().missing(needed);
        if (!missing.isEmpty()) {
            return Optional.of("the action result for key " + key + " needs blobs the cache no longer holds ("
                    + missing.iterator().next() + (missing.size() > 1 ? " and " + (missing.size() - 1) + " more" : "")
                    + "); rebuild the step");
        }
        response.onNext(result);
        return Optional.empty();
    }

    @Override
    public void updateActionResult(UpdateActionResultRequest request, StreamObserver<ActionResult> response) {
        if (request.getKey().isEmpty()) {
            response.onError(Statuses.invalidArgument("UpdateActionResult needs a cache key"));
            return;
        }
        for (String blob : request.getResult().getBlobsList()) {
            if (!Digest.isValid(blob)) {
                response.onError(Statuses.invalidArgument(
                        "the result lists a bad blob: " + ContentStoreService.badDigest(blob)));
                return;
            }
        }
        try {
            stores.current().putAction(request.getKey(), request.getResult().toByteArray());
            response.onNext(request.getResult());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }
}
