package dev.stagefarm.cacheserver.service;

import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.NamespaceUsage;
import dev.stagefarm.cacheserver.store.PruneResult;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.cacheserver.store.Usage;
import dev.stagefarm.proto.cache.CacheAdminGrpc;
import dev.stagefarm.proto.cache.GetStatsRequest;
import dev.stagefarm.proto.cache.GetStatsResponse;
import dev.stagefarm.proto.cache.PruneRequest;
import dev.stagefarm.proto.cache.PruneResponse;
import dev.stagefarm.proto.cache.TeamUsage;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The CacheAdmin RPCs: statistics (the caller's team's, and every team's on request) and prune; admin scope only. */
public final class CacheAdminService extends CacheAdminGrpc.CacheAdminImplBase {

    private static final Logger log = LoggerFactory.getLogger(CacheAdminService.class);

    private final CallerStores stores;
    /** Every team's part of the store, for an admin asking for all (the service needs the admin scope). */
    private final Supplier<List<NamespaceUsage>> teams;

    public CacheAdminService(CallerStores stores, Supplier<List<NamespaceUsage>> teams) {
        this.stores = stores;
        this.teams = teams;
    }

    @Override
    public void getStats(GetStatsRequest request, StreamObserver<GetStatsResponse> response) {
        try {
            Usage u = stores.current().usage();
            GetStatsResponse.Builder stats = GetStatsResponse.newBuilder();
            if (request.getAllTeams()) {
                for (NamespaceUsage t : teams.get()) {
                    stats.addTeams(TeamUsage.newBuilder()
                            .setTeam(t.team())
                            .setBlobCount(t.blobCount())
                            .setStoredBytes(t.storedBytes())
                            .setActionEntries(t.actionEntries())
                            .setQuotaBytes(t.quotaBytes()));
                }
            }
            response.onNext(stats.setBlobCount(u.blobCount())
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
