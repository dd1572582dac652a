package dev.stagefarm.cacheserver.service;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.cacheserver.dataport.DataPort;
import dev.stagefarm.cacheserver.dataport.ReadTickets;
import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.BlobCorruptException;
import dev.stagefarm.cacheserver.store.BlobNotFoundException;
import dev.stagefarm.cacheserver.store.BlobReader;
import dev.stagefarm.cacheserver.store.BlobStore;
import dev.stagefarm.cacheserver.store.Keys;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.BatchReadBlobsRequest;
import dev.stagefarm.proto.cache.BatchReadBlobsResponse;
import dev.stagefarm.proto.cache.BatchUpdateBlobsRequest;
import dev.stagefarm.proto.cache.BatchUpdateBlobsResponse;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.FindMissingRequest;
import dev.stagefarm.proto.cache.FindMissingResponse;
import dev.stagefarm.proto.cache.OpenReadResponse;
import dev.stagefarm.proto.cache.QueryWriteRequest;
import dev.stagefarm.proto.cache.QueryWriteResponse;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.ReadResponse;
import dev.stagefarm.proto.cache.WriteRequest;
import dev.stagefarm.proto.cache.WriteResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The ContentStore RPCs over a {@link BlobStore}. */
public final class ContentStoreService extends ContentStoreGrpc.ContentStoreImplBase {

    /** FindMissing answers at most this many digests per request, so one call stays small. */
    static final int MAX_FIND_MISSING = 10_000;

    /**
     * Data bytes in one BatchReadBlobs answer: gRPC's default 4 MiB message limit less room for
     * the per-blob framing ({@link #BATCH_ENTRY_OVERHEAD} each). Clients split batch uploads the same way.
     */
    public static final int MAX_BATCH_BYTES = (4 << 20) - (64 << 10);
    /** What one entry costs besides its data: the digest string, code and tags. */
    public static final int BATCH_ENTRY_OVERHEAD = 100;
    /** OpenRead answers a range up to this size itself (one chunk); larger ones go to the data port. */
    static final int INLINE_READ_BYTES = 1 << 20;
    /** Blobs per batch call, either way. */
    public static final int MAX_BATCH_BLOBS = 10_000;

    private static final Logger log = LoggerFactory.getLogger(ContentStoreService.class);

    private final CallerStores stores;
    private final CacheMetrics metrics;
    private final boolean sendCopies;
    private final DataPort dataPort;
    private final ReadTickets tickets;

    /**
     * @param sendCopies whether the transport copies a message before onNext returns (see {@link ReadPump})
     * @param dataPort   where OpenRead sends large reads, with the tickets it redeems; null without one
     */
    public ContentStoreService(
            CallerStores stores, CacheMetrics metrics, boolean sendCopies, DataPort dataPort, ReadTickets tickets) {
        this.stores = stores;
        this.metrics = metrics;
        this.sendCopies = sendCopies;
        this.dataPort = dataPort;
        this.tickets = tickets;
    }

    @Override
    public void findMissing(FindMissingRequest request, StreamObserver<FindMissingResponse> response) {
        int asked = request.getDigestsCount() + request.getSha256Count();
        if (asked > MAX_FIND_MISSING) {
            response.onError(Statuses.invalidArgument("FindMissing takes at most " + MAX_FIND_MISSING
                    + " digests per call, got " + asked + "; split the request"));
            return;
        }
        if (request.getSha256Count() > 0) {
            findMissingBinary(request, response);
            return;
        }
        List<String> texts = request.getDigestsList();
        List<byte[]> sha256s = new ArrayList<>(texts.size());
        for (String text : texts) {
            byte[] sha256 = Keys.sha256OrNull(text);
            if (sha256 == null) {
                response.onError(Statuses.invalidArgument(badDigest(text)));
                return;
            }
            sha256s.add(sha256);
        }
        try {
            boolean[] present = stores.current().present(sha256s);
            // Each missing digest once, in the order asked.
            LinkedHashSet<String> missing = new LinkedHashSet<>();
            for (int i = 0; i < present.length; i++) {
                if (!present[i]) {
                    missing.add(texts.get(i));
                }
            }
            metrics.blobMisses(missing.size());
            metrics.blobHits(texts.size() - missing.size());
            response.onNext(
                    FindMissingResponse.newBuilder().addAllMissing(missing).build());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        } catch (RuntimeException e) {
            log.error("cache-server: FindMissing failed", e);
            response.onError(Statuses.internal(e));
        }
    }

    /** FindMissing with raw sha256 values: answers the positions of the absent ones. */
    private void findMissingBinary(FindMissingRequest request, StreamObserver<FindMissingResponse> response) {
        if (request.getDigestsCount() > 0) {
            response.onError(Statuses.invalidArgument("FindMissing takes digests or sha256, not both in one call"));
            return;
        }
        List<byte[]> sha256s = new ArrayList<>(request.getSha256Count());
        for (int i = 0; i < request.getSha256Count(); i++) {
            ByteString raw = request.getSha256(i);
            if (raw.size() != Keys.DIGEST_BYTES) {
                response.onError(Statuses.invalidArgument(
                        "FindMissing sha256 entry " + i + " has " + raw.size() + " bytes; a sha256 has 32"));
                return;
            }
            sha256s.add(raw.toByteArray());
        }
        try {
            boolean[] present = stores.current().present(sha256s);
            FindMissingResponse.Builder answer =
                    FindMissingResponse.newBuilder().setSha256Answered(present.length);
            for (int i = 0; i < present.length; i++) {
                if (!present[i]) {
                    answer.addMissingIndex(i);
                }
            }
            metrics.blobMisses(answer.getMissingIndexCount());
            metrics.blobHits(present.length - answer.getMissingIndexCount());
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
        BlobReader reader = openReader(request, response);
        if (reader == null) {
            return;
        }
        metrics.blobHits(1);
        new ReadPump(
                        Digest.parse(request.getDigest()),
                        reader,
                        (ServerCallStreamObserver<ReadResponse>) response,
                        metrics,
                        sendCopies)
                .start();
    }

    /**
     * A small range in the answer itself; a large one as a ticket for the data port, which then
     * owns the reader (and its snapshot) until the ticket is used or expires; without a data
     * port only the size, and the client falls back to Read.
     */
    @Override
    public void openRead(ReadRequest request, StreamObserver<OpenReadResponse> response) {
        BlobReader reader = openReader(request, response);
        if (reader == null) {
            return;
        }
        Digest digest = Digest.parse(request.getDigest());
        long from = request.getOffset();
        long size =
                (request.getLimit() == 0 ? reader.blobSize() : Math.min(reader.blobSize(), from + request.getLimit()))
                        - from;
        OpenReadResponse.Builder answer = OpenReadResponse.newBuilder().setSize(size);
        try {
            if (size <= INLINE_READ_BYTES) {
                try (reader) {
                    answer.setData(UnsafeByteOperations.unsafeWrap(readAll(reader, (int) size)));
                }
                metrics.blobHits(1);
                metrics.bytesOut(size);
            } else if (dataPort != null) {
                // The hit is counted when the data port serves it: a client may fall back to Read instead.
                answer.setTicket(UnsafeByteOperations.unsafeWrap(tickets.issue(digest, reader, size)))
                        .setDataPort(dataPort.port());
            } else {
                reader.close();
            }
        } catch (StoreException e) {
            if (e instanceof BlobCorruptException) {
                metrics.corruptBlob();
            }
            response.onError(Statuses.of(e));
            return;
        } catch (ReadTickets.TooManyReadsException e) {
            response.onError(
                    Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (RuntimeException e) {
            reader.close();
            log.error("cache-server: OpenRead failed", e);
            response.onError(Statuses.internal(e));
            return;
        }
        response.onNext(answer.build());
        response.onCompleted();
    }

    /** The reader a Read or OpenRead asks for; null when the call has been answered with an error. */
    private BlobReader openReader(ReadRequest request, StreamObserver<?> response) {
        if (!Digest.isValid(request.getDigest())) {
            response.onError(Statuses.invalidArgument(badDigest(request.getDigest())));
            return null;
        }
        if (request.getOffset() < 0 || request.getLimit() < 0) {
            response.onError(
                    Statuses.invalidArgument("Read offset and limit must not be negative (limit 0 reads to the end)"));
            return null;
        }
        try {
            return stores.current()
                    .openRead(Digest.parse(request.getDigest()), request.getOffset(), request.getLimit());
        } catch (BlobNotFoundException e) {
            metrics.blobMisses(1);
            response.onError(Statuses.of(e));
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
        return null;
    }

    private static byte[] readAll(BlobReader reader, int size) throws StoreException {
        byte[] data = new byte[size];
        int at = 0;
        for (ByteBuffer piece; (piece = reader.next()) != null; ) {
            int n = piece.remaining();
            piece.get(data, at, n);
            at += n;
        }
        return data;
    }

    @Override
    public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
        return new WriteStream(stores.current(), response, metrics);
    }

    @Override
    public void queryWrite(QueryWriteRequest request, StreamObserver<QueryWriteResponse> response) {
        if (!Digest.isValid(request.getDigest())) {
            response.onError(Statuses.invalidArgument(badDigest(request.getDigest())));
            return;
        }
        try {
            BlobStore.WriteStatus status = stores.current().queryWrite(Digest.parse(request.getDigest()));
            response.onNext(QueryWriteResponse.newBuilder()
                    .setCommittedSize(status.committedSize())
                    .setComplete(status.complete())
                    .build());
            response.onCompleted();
        } catch (StoreException e) {
            response.onError(Statuses.of(e));
        }
    }

    @Override
    public void batchReadBlobs(BatchReadBlobsRequest request, StreamObserver<BatchReadBlobsResponse> response) {
        if (request.getDigestsCount() > MAX_BATCH_BLOBS) {
            response.onError(Statuses.invalidArgument("BatchReadBlobs takes at most " + MAX_BATCH_BLOBS
                    + " digests per call, got " + request.getDigestsCount() + "; split the request"));
            return;
        }
        BatchReadBlobsResponse.Builder answer = BatchReadBlobsResponse.newBuilder();
        long budget = MAX_BATCH_BYTES;
        try {
            for (String text : request.getDigestsList()) {
                BatchReadBlobsResponse.Response.Builder entry =
                        answer.addResponsesBuilder().setDigest(text);
                budget -= BATCH_ENTRY_OVERHEAD;
                if (!Digest.isValid(text)) {
                    entry.setCode(Status.Code.INVALID_ARGUMENT.value()).setMessage(badDigest(text));
                    continue;
                }
                budget -= readInto(Digest.parse(text), budget, entry);
            }
        } catch (RuntimeException e) {
            log.error("cache-server: BatchReadBlobs failed", e);
            response.onError(Statuses.internal(e));
            return;
        }
        response.onNext(answer.build());
        response.onCompleted();
    }

    /** Fills one batch entry with a verified blob when it fits in {@code budget}; returns the bytes used. */
    private long readInto(Digest digest, long budget, BatchReadBlobsResponse.Response.Builder entry) {
        try (BlobReader reader = stores.current().openRead(digest, 0, 0)) {
            long size = reader.blobSize();
            if (size > MAX_BATCH_BYTES) {
                entry.setCode(Status.Code.OUT_OF_RANGE.value())
                        .setMessage(digest + " has " + size + " bytes, too many for a batch; use Read");
                return 0;
            }
            if (size > budget) {
                entry.setCode(Status.Code.RESOURCE_EXHAUSTED.value())
                        .setMessage("no room left in this response for " + digest + "; ask for it again");
                return 0;
            }
            byte[] data = readAll(reader, (int) size);
            metrics.blobHits(1);
            metrics.bytesOut(size);
            entry.setData(UnsafeByteOperations.unsafeWrap(data));
            return size;
        } catch (StoreException e) {
            if (e instanceof BlobNotFoundException) {
                metrics.blobMisses(1);
            } else if (e instanceof BlobCorruptException) {
                metrics.corruptBlob();
            }
            Status status = Statuses.of(e).getStatus();
            entry.setCode(status.getCode().value()).setMessage(e.getMessage());
            return 0;
        }
    }

    @Override
    public void batchUpdateBlobs(BatchUpdateBlobsRequest request, StreamObserver<BatchUpdateBlobsResponse> response) {
        if (request.getRequestsCount() > MAX_BATCH_BLOBS) {
            response.onError(Statuses.invalidArgument("BatchUpdateBlobs takes at most " + MAX_BATCH_BLOBS
                    + " blobs per call, got " + request.getRequestsCount() + "; split the request"));
            return;
        }
        BatchUpdateBlobsResponse.Builder answer = BatchUpdateBlobsResponse.newBuilder();
        try {
            for (BatchUpdateBlobsRequest.Request blob : request.getRequestsList()) {
                BatchUpdateBlobsResponse.Response.Builder entry =
                        answer.addResponsesBuilder().setDigest(blob.getDigest());
                if (!Digest.isValid(blob.getDigest())) {
                    entry.setCode(Status.Code.INVALID_ARGUMENT.value()).setMessage(badDigest(blob.getDigest()));
                    continue;
                }
                try {
                    stores.current()
                            .putSmall(
                                    Digest.parse(blob.getDigest()),
                                    blob.getData().toByteArray());
                    metrics.bytesIn(blob.getData().size());
                } catch (StoreException e) {
                    entry.setCode(Statuses.of(e).getStatus().getCode().value()).setMessage(e.getMessage());
                }
            }
        } catch (RuntimeException e) {
            log.error("cache-server: BatchUpdateBlobs failed", e);
            response.onError(Statuses.internal(e));
            return;
        }
        response.onNext(answer.build());
        response.onCompleted();
    }

    static String badDigest(String text) {
        return "'" + text + "' is not a digest: write sha256:<64 lowercase hex>";
    }
}
