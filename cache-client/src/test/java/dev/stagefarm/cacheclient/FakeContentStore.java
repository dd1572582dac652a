package dev.stagefarm.cacheclient;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.cache.BatchUpdateBlobsRequest;
import dev.stagefarm.proto.cache.BatchUpdateBlobsResponse;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.FindMissingRequest;
import dev.stagefarm.proto.cache.FindMissingResponse;
import dev.stagefarm.proto.cache.QueryWriteRequest;
import dev.stagefarm.proto.cache.QueryWriteResponse;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.ReadResponse;
import dev.stagefarm.proto.cache.WriteRequest;
import dev.stagefarm.proto.cache.WriteResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * An in-memory ContentStore that can misbehave on purpose (serve damaged bytes), to test what
 * only a broken server could show: the client's own verification. It trusts uploads blindly.
 */
final class FakeContentStore extends ContentStoreGrpc.ContentStoreImplBase {

    final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    final List<Integer> findMissingSizes = new CopyOnWriteArrayList<>();
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger batchWrites = new AtomicInteger();
    volatile boolean damageReads;

    /** Answer like a server that predates FindMissing's binary form: ignore the sha256 field. */
    volatile boolean textOnly;

    /**
     * When positive, a write finishes only once FindMissing was asked this many times in all, or
     * after two seconds: two uploads of one blob that both asked first then overlap for sure.
     */
    volatile int finishWritesWhenAsked;

    private final AtomicInteger asked = new AtomicInteger();

    @Override
    public void findMissing(FindMissingRequest request, StreamObserver<FindMissingResponse> response) {
        asked.incrementAndGet();
        FindMissingResponse.Builder answer = FindMissingResponse.newBuilder();
        if (request.getSha256Count() > 0 && !textOnly) {
            findMissingSizes.add(request.getSha256Count());
            for (int i = 0; i < request.getSha256Count(); i++) {
                String digest = "sha256:"
                        + HexFormat.of().formatHex(request.getSha256(i).toByteArray());
                if (!blobs.containsKey(digest)) {
                    answer.addMissingIndex(i);
                }
            }
            response.onNext(answer.setSha256Answered(request.getSha256Count()).build());
            response.onCompleted();
            return;
        }
        findMissingSizes.add(request.getDigestsCount());
        request.getDigestsList().stream().filter(d -> !blobs.containsKey(d)).forEach(answer::addMissing);
        response.onNext(answer.build());
        response.onCompleted();
    }

    @Override
    public void read(ReadRequest request, StreamObserver<ReadResponse> response) {
        byte[] data = blobs.get(request.getDigest());
        if (data == null) {
            response.onError(Status.NOT_FOUND
                    .withDescription("blob " + request.getDigest() + " is not in the cache")
                    .asRuntimeException());
            return;
        }
        data = data.clone();
        if (damageReads && data.length > 0) {
            data[data.length - 1] ^= 1;
        }
        for (int offset = 0; offset < data.length; offset += 1 << 20) {
            int n = Math.min(1 << 20, data.length - offset);
            response.onNext(ReadResponse.newBuilder()
                    .setData(ByteString.copyFrom(data, offset, n))
                    .build());
        }
        response.onCompleted();
    }

    @Override
    public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
        writes.incrementAndGet();
        return new StreamObserver<>() {
            private final ByteArrayOutputStream received = new ByteArrayOutputStream();
            private String digest;

            @Override
            public void onNext(WriteRequest request) {
                if (digest == null) {
                    digest = request.getDigest();
                }
                received.writeBytes(request.getData().toByteArray());
                if (request.getFinish()) {
                    awaitAsked();
                    blobs.put(digest, received.toByteArray());
                    response.onNext(WriteResponse.newBuilder()
                            .setCommittedSize(received.size())
                            .build());
                    response.onCompleted();
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }

    private void awaitAsked() {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (asked.get() < finishWritesWhenAsked && System.nanoTime() < deadline) {
            LockSupport.parkNanos(10_000_000L);
        }
    }

    @Override
    public void batchUpdateBlobs(BatchUpdateBlobsRequest request, StreamObserver<BatchUpdateBlobsResponse> response) {
        batchWrites.incrementAndGet();
        BatchUpdateBlobsResponse.Builder answer = BatchUpdateBlobsResponse.newBuilder();
        for (BatchUpdateBlobsRequest.Request blob : request.getRequestsList()) {
            blobs.put(blob.getDigest(), blob.getData().toByteArray());
            answer.addResponsesBuilder().setDigest(blob.getDigest());
        }
        response.onNext(answer.build());
        response.onCompleted();
    }

    @Override
    public void queryWrite(QueryWriteRequest request, StreamObserver<QueryWriteResponse> response) {
        byte[] data = blobs.get(request.getDigest());
        response.onNext(QueryWriteResponse.newBuilder()
                .setComplete(data != null)
                .setCommittedSize(data == null ? 0 : data.length)
                .build());
        response.onCompleted();
    }
}
