package dev.stagefarm.cacheserver;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.FindMissingRequest;
import dev.stagefarm.proto.cache.FindMissingResponse;
import dev.stagefarm.proto.cache.QueryWriteRequest;
import dev.stagefarm.proto.cache.QueryWriteResponse;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.ReadResponse;
import dev.stagefarm.proto.cache.WriteRequest;
import dev.stagefarm.proto.cache.WriteResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The ContentStore RPCs over a {@link BlobStore}. */
public final class ContentStoreService extends ContentStoreGrpc.ContentStoreImplBase {

    /** FindMissing answers at most this many digests per request, so one call stays small. */
    static final int MAX_FIND_MISSING = 10_000;

    private static final Logger log = LoggerFactory.getLogger(ContentStoreService.class);

    private final BlobStore store;
    private final CacheMetrics metrics;

    ContentStoreService(BlobStore store, CacheMetrics metrics) {
        this.store = store;
        this.metrics = metrics;
    }

    @Override
    public void findMissing(FindMissingRequest request, StreamObserver<FindMissingResponse> response) {
        if (request.getDigestsCount() > MAX_FIND_MISSING) {
            response.onError(Statuses.invalidArgument("FindMissing takes at most " + MAX_FIND_MISSING
                    + " digests per call, got " + request.getDigestsCount() + "; split the request"));
            return;
        }
        List<Digest> digests = new ArrayList<>(request.getDigestsCount());
        for (String text : request.getDigestsList()) {
            if (!Digest.isValid(text)) {
                response.onError(Statuses.invalidArgument(badDigest(text)));
                return;
            }
            digests.add(Digest.parse(text));
        }
        try {
            Set<Digest> missing = store.missing(digests);
            metrics.blobMisses(missing.size());
            metrics.blobHits(digests.size() - missing.size());
            FindMissingResponse.Builder answer = FindMissingResponse.newBuilder();
            missing.forEach(d -> answer.addMissing(d.toString()));
            response.onNext(answer.build());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        } catch (RuntimeException e) {
            log.error("cache-server: FindMissing failed", e);
            response.onError(Statuses.internal(e));
        }
    }

    @Override
    public void read(ReadRequest request, StreamObserver<ReadResponse> response) {
        if (!Digest.isValid(request.getDigest())) {
            response.onError(Statuses.invalidArgument(badDigest(request.getDigest())));
            return;
        }
        if (request.getOffset() < 0 || request.getLimit() < 0) {
            response.onError(Statuses.invalidArgument("Read offset and limit must not be negative (limit 0 reads to the end)"));
            return;
        }
        Digest digest = Digest.parse(request.getDigest());
        BlobReader reader;
        try {
            reader = store.openRead(digest, request.getOffset(), request.getLimit());
        } catch (BlobNotFoundException e) {
            metrics.blobMisses(1);
            response.onError(Statuses.of(e));
            return;
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
            return;
        }
        metrics.blobHits(1);
        new ReadPump(digest, reader, (ServerCallStreamObserver<ReadResponse>) response, metrics).start();
    }

    @Override
    public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
        return new WriteStream(store, response, metrics);
    }

    @Override
    public void queryWrite(QueryWriteRequest request, StreamObserver<QueryWriteResponse> response) {
        if (!Digest.isValid(request.getDigest())) {
            response.onError(Statuses.invalidArgument(badDigest(request.getDigest())));
            return;
        }
        try {
            BlobStore.WriteStatus status = store.queryWrite(Digest.parse(request.getDigest()));
            response.onNext(QueryWriteResponse.newBuilder()
                    .setCommittedSize(status.committedSize())
                    .setComplete(status.complete())
                    .build());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }

    static String badDigest(String text) {
        return "'" + text + "' is not a digest: write sha256:<64 lowercase hex>";
    }
}
