package dev.stagefarm.cacheclient;

import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.BatchReadBlobsRequest;
import dev.stagefarm.proto.cache.BatchReadBlobsResponse;
import dev.stagefarm.proto.cache.BatchUpdateBlobsRequest;
import dev.stagefarm.proto.cache.BatchUpdateBlobsResponse;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Small blobs many at a time: BatchUpdateBlobs and BatchReadBlobs, split so that no message
 * passes gRPC's 4 MiB limit. The limits mirror the server's (ContentStoreService).
 */
final class BatchTransfers {

    /** Data bytes per batch message: 4 MiB less room for framing. */
    static final int MAX_BATCH_BYTES = (4 << 20) - (64 << 10);
    /** Framing per blob in a batch (digest string, code, tags), counted against the limit. */
    static final int ENTRY_OVERHEAD = 100;
    /** Digests per BatchReadBlobs call; what does not fit in the answer is asked for again. */
    static final int READ_BATCH_DIGESTS = 1_000;

    private static final long DEADLINE_SECONDS = 60;

    private final ContentStoreGrpc.ContentStoreBlockingStub stub;
    private final String target;

    BatchTransfers(ContentStoreGrpc.ContentStoreBlockingStub stub, String target) {
        this.stub = stub;
        this.target = target;
    }

    /** Whether a blob of {@code size} bytes can travel in a batch at all. */
    static boolean fits(long size) {
        return size + ENTRY_OVERHEAD <= MAX_BATCH_BYTES;
    }

    /** Collects blobs into batches and sends each as it fills. */
    final class Uploader {
        private BatchUpdateBlobsRequest.Builder request = BatchUpdateBlobsRequest.newBuilder();
        private final Map<Digest, String> names = new LinkedHashMap<>();
        private long bytes;

        /** Queues {@code data} as {@code digest}; {@code name} (a path, or null) goes into error messages. */
        void add(Digest digest, byte[] data, String name) throws IOException {
            if (!fits(data.length)) {
                throw new IllegalArgumentException(digest + " has " + data.length + " bytes, too many for a batch");
            }
            if (bytes + data.length + ENTRY_OVERHEAD > MAX_BATCH_BYTES) {
                flush();
            }
            request.addRequestsBuilder().setDigest(digest.toString()).setData(UnsafeByteOperations.unsafeWrap(data));
            names.put(digest, name);
            bytes += data.length + ENTRY_OVERHEAD;
        }

        /** Sends what is queued; throws on the first blob the server refused. */
        void flush() throws IOException {
            if (request.getRequestsCount() == 0) {
                return;
            }
            int count = request.getRequestsCount();
            BatchUpdateBlobsResponse response;
            try {
                response = stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .batchUpdateBlobs(request.build());
            } catch (StatusRuntimeException e) {
                throw CacheErrors.translate(e, "uploading a batch of " + count + " blobs", null, target);
            } finally {
                request = BatchUpdateBlobsRequest.newBuilder();
                bytes = 0;
            }
            for (BatchUpdateBlobsResponse.Response r : response.getResponsesList()) {
                if (r.getCode() != Status.Code.OK.value()) {
                    String name = names.get(Digest.parse(r.getDigest()));
                    throw new CacheException(
                            "uploading " + r.getDigest() + (name != null ? " (" + name + ")" : "") + " to " + target
                                    + " failed: " + r.getMessage(),
                            Status.fromCodeValue(r.getCode()).getCode(),
                            null);
                }
            }
            names.clear();
        }
    }

    /**
     * Reads blobs in batches, verifying each. Returns the blobs found; those too large for a
     * batch are listed in {@code tooLarge} for the caller to stream.
     */
    Map<Digest, byte[]> read(List<Digest> digests, List<Digest> tooLarge) throws IOException {
        Map<Digest, byte[]> found = new LinkedHashMap<>();
        Deque<Digest> pending = new ArrayDeque<>(digests);
        while (!pending.isEmpty()) {
            BatchReadBlobsRequest.Builder request = BatchReadBlobsRequest.newBuilder();
            List<Digest> asked = new ArrayList<>();
            while (!pending.isEmpty() && asked.size() < READ_BATCH_DIGESTS) {
                Digest d = pending.poll();
                asked.add(d);
                request.addDigests(d.toString());
            }
            BatchReadBlobsResponse response;
            try {
                response = stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .batchReadBlobs(request.build());
            } catch (StatusRuntimeException e) {
                throw CacheErrors.translate(e, "reading a batch of " + asked.size() + " blobs", null, target);
            }
            List<Digest> again = new ArrayList<>();
            for (BatchReadBlobsResponse.Response r : response.getResponsesList()) {
                Digest digest = Digest.parse(r.getDigest());
                Status.Code code = Status.fromCodeValue(r.getCode()).getCode();
                switch (code) {
                    case OK -> {
                        byte[] data = r.getData().toByteArray();
                        BlobIntegrityException.check(digest, Digest.of(data), data.length, target);
                        found.put(digest, data);
                    }
                    case NOT_FOUND -> {}
                    case RESOURCE_EXHAUSTED -> again.add(digest);
                    case OUT_OF_RANGE -> tooLarge.add(digest);
                    case DATA_LOSS ->
                        throw new BlobIntegrityException(
                                "reading " + digest + " at " + target + ": " + r.getMessage(), null);
                    default ->
                        throw new CacheException(
                                "reading " + digest + " at " + target + " failed: " + code + ": " + r.getMessage(),
                                code,
                                null);
                }
            }
            // What did not fit goes first into the next call.
            for (int i = again.size() - 1; i >= 0; i--) {
                pending.addFirst(again.get(i));
            }
        }
        return found;
    }
}
