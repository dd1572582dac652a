package dev.stagefarm.cacheserver.service;

import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.PruneResult;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.cacheserver.store.Usage;
import dev.stagefarm.proto.cache.CacheAdminGrpc;
import dev.stagefarm.proto.cache.GetStatsRequest;
import dev.stagefarm.proto.cache.GetStatsResponse;
import dev.stagefarm.proto.cache.PruneRequest;
import dev.stagefarm.proto.cache.PruneResponse;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The CacheAdmin RPCs: statistics and prune. (The admin token scope will guard this service.) */
public final class CacheAdminService extends CacheAdminGrpc.CacheAdminImplBase {

    private static final Logger log = LoggerFactory.getLogger(CacheAdminService.class);

    private final CallerStores stores;

    public CacheAdminService(CallerStores stores) {
        this.stores = stores;
    }

    @Override
    public void getStats(GetStatsRequest request, StreamObserver<GetStatsResponse> response) {
        try {
            Usage u = stores.current().usage();
            response.onNext(GetStatsResponse.newBuilder()
                    .setBlobCount(u.blobCount())
                    .setStoredBytes(u.storedBytes())
                    .setActionEntries(u.actionEntries())
                    .setMaxSize(u.maxBytes())
                    .setUploadsInProgress(u.uploadsInProgress())
                    .setDiskBytes(u.diskBytes())
                    .setEvictedBlobs(u.evictedBlobs())
                    .setEvictedBytes(u.evictedBytes())
                    .setOldestAccessMillis(u.oldestAccessMillis())
                    .build());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }

    @Override
    public void prune(PruneRequest request, StreamObserver<PruneResponse> response) {
        if (request.getKeepStorage() < 0 || request.getUnusedForSeconds() < 0) {
            response.onError(
                    Statuses.invalidArgument("Prune: keep_storage and unused_for_seconds must not be negative"));
            return;
        }
        try {
            PruneResult r =
                    stores.current().prune(request.getKeepStorage(), Duration.ofSeconds(request.getUnusedForSeconds()));
            log.info(
                    "cache-server: prune (keep {} bytes, unused for {} s) deleted {} blobs, {} bytes; {} bytes left",
                    request.getKeepStorage(),
                    request.getUnusedForSeconds(),
                    r.blobsDeleted(),
                    r.bytesFreed(),
                    r.storedBytes());
            response.onNext(PruneResponse.newBuilder()
                    .setBlobsDeleted(r.blobsDeleted())
                    .setBytesFreed(r.bytesFreed())
                    .setBlobCount(r.blobCount())
                    .setStoredBytes(r.storedBytes())
                    .build());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }
}
