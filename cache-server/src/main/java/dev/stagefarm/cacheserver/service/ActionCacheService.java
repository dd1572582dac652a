package dev.stagefarm.cacheserver.service;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ActionCacheGrpc;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.GetActionResultRequest;
import dev.stagefarm.proto.cache.GetActionResultsRequest;
import dev.stagefarm.proto.cache.GetActionResultsResponse;
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

    /** Keys one GetActionResults call may ask. */
    static final int MAX_KEYS_PER_CALL = 1_000;

    @Override
    public void getActionResult(GetActionResultRequest request, StreamObserver<ActionResult> response) {
        String key = request.getKey();
        if (key.isEmpty()) {
            response.onError(Statuses.invalidArgument("GetActionResult needs a cache key"));
            return;
        }
        try {
            Answer answer = lookUp(key);
            if (answer.hit() == null) {
                response.onError(Statuses.notFound(answer.miss()));
            } else {
                response.onNext(answer.hit());
                response.onCompleted();
            }
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }

    @Override
    public void getActionResults(GetActionResultsRequest request, StreamObserver<GetActionResultsResponse> response) {
        if (request.getKeysCount() > MAX_KEYS_PER_CALL) {
            response.onError(Statuses.invalidArgument("GetActionResults takes at most " + MAX_KEYS_PER_CALL
                    + " keys a call, not " + request.getKeysCount() + "; split them"));
            return;
        }
        if (request.getKeysList().contains("")) {
            response.onError(Statuses.invalidArgument("GetActionResults was given an empty cache key"));
            return;
        }
        try {
            GetActionResultsResponse.Builder answers = GetActionResultsResponse.newBuilder();
            for (String key : request.getKeysList()) {
                Answer answer = lookUp(key);
                var one = answers.addAnswersBuilder();
                if (answer.hit() == null) {
                    one.setMiss(answer.miss());
                } else {
                    one.setHit(answer.hit());
                }
            }
            response.onNext(answers.build());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }

    /** A key's result, or why there is none. */
    private record Answer(ActionResult hit, String miss) {
        static Answer miss(String why) {
            return new Answer(null, why);
        }
    }

    /** The result stored for {@code key}, counted as a hit or a miss. */
    private Answer lookUp(String key) throws StoreException {
        Answer answer = find(key);
        if (answer.hit() == null) {
            metrics.actionMiss();
        } else {
            metrics.actionHit();
        }
        return answer;
    }

    private Answer find(String key) throws StoreException {
        Optional<byte[]> stored = stores.current().getAction(key);
        if (stored.isEmpty()) {
            return Answer.miss("no action result for key " + key);
        }
        ActionResult result;
        try {
            result = ActionResult.parseFrom(stored.get());
        } catch (InvalidProtocolBufferException e) {
            log.error("cache-server: the action result for {} is unreadable; treating it as a miss", key, e);
            return Answer.miss("the action result for key " + key + " is unreadable; rebuild the step");
        }
        List<Digest> needed = new ArrayList<>();
        for (String blob : result.getBlobsList()) {
            if (!Digest.isValid(blob)) {
                return Answer.miss("the action result for key " + key + " lists a bad digest " + blob);
            }
            needed.add(Digest.parse(blob));
        }
        Set<Digest> missing = stores.current().missing(needed);
        if (!missing.isEmpty()) {
            return Answer.miss("the action result for key " + key + " needs blobs the cache no longer holds ("
                    + missing.iterator().next() + (missing.size() > 1 ? " and " + (missing.size() - 1) + " more" : "")
                    + "); rebuild the step");
        }
        return new Answer(result, null);
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
