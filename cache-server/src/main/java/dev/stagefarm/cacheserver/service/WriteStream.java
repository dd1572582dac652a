package dev.stagefarm.cacheserver.service;

import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.BlobStore;
import dev.stagefarm.cacheserver.store.BlobWriter;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.WriteRequest;
import dev.stagefarm.proto.cache.WriteResponse;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Write call: the first message names the blob and its size, data follows at increasing
 * offsets, and the message with {@code finish} commits. gRPC delivers one message at a time
 * and a store write blocks the call, so a fast client cannot pile up data in memory.
 */
public final class WriteStream implements StreamObserver<WriteRequest> {

    private static final Logger log = LoggerFactory.getLogger(WriteStream.class);

    private final BlobStore store;
    private final StreamObserver<WriteResponse> response;
    private final CacheMetrics metrics;
    private BlobWriter writer;
    /** The call has been answered (success or error); anything the client still sends is dropped. */
    private boolean answered;

    WriteStream(BlobStore store, StreamObserver<WriteResponse> response, CacheMetrics metrics) {
        this.store = store;
        this.response = response;
        this.metrics = metrics;
    }

    @Override
    public void onNext(WriteRequest request) {
        if (answered) {
            return;
        }
        try {
            if (writer == null && !open(request)) {
                return;
            }
            int n = request.getData().size();
            writer.write(request.getOffset(), request.getData().asReadOnlyByteBuffer());
            metrics.bytesIn(n);
            if (request.getFinish()) {
                answer(writer.commit());
            }
        } catch (StoreException e) {
            fail(Statuses.of(e));
        } catch (RuntimeException e) {
            log.error("cache-server: a write failed", e);
            fail(Statuses.internal(e));
        }
    }

    /** Opens the upload the first message names; false when the call is already answered. */
    private boolean open(WriteRequest first) throws StoreException {
        if (!Digest.isValid(first.getDigest())) {
            fail(Statuses.invalidArgument(
                    "the first WriteRequest must name the blob: " + ContentStoreService.badDigest(first.getDigest())));
            return false;
        }
        if (first.getSize() < 0) {
            fail(Statuses.invalidArgument(
                    "the first WriteRequest must give the blob's size (>= 0), got " + first.getSize()));
            return false;
        }
        Optional<BlobWriter> opened = store.openWrite(Digest.parse(first.getDigest()), first.getSize());
        if (opened.isEmpty()) {
            // Already stored: answer at once, the client stops sending.
            answer(first.getSize());
            return false;
        }
        writer = opened.get();
        return true;
    }

    @Override
    public void onError(Throwable t) {
        // The client went away: whole chunks stay stored for a resume.
        answered = true;
        closeWriter();
    }

    @Override
    public void onCompleted() {
        if (!answered) {
            fail(Statuses.invalidArgument("the write stream ended without a message with finish=true; "
                    + "call QueryWrite and resume from the committed size"));
        }
    }

    private void answer(long committedSize) {
        answered = true;
        closeWriter();
        response.onNext(
                WriteResponse.newBuilder().setCommittedSize(committedSize).build());
        response.onCompleted();
    }

    private void fail(RuntimeException status) {
        answered = true;
        closeWriter();
        response.onError(status);
    }

    private void closeWriter() {
        if (writer != null) {
            writer.close();
        }
    }
}
