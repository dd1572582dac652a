package dev.stagefarm.cacheserver;

import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ReadResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a blob only as fast as the client takes it: a chunk goes out only while the call is
 * ready, and the pump resumes from the on-ready callback. So a multi-GB blob never sits in
 * memory, however slow the reader.
 */
final class ReadPump implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ReadPump.class);

    private final Digest digest;
    private final BlobReader reader;
    private final ServerCallStreamObserver<ReadResponse> out;
    private final CacheMetrics metrics;
    private boolean done;

    ReadPump(Digest digest, BlobReader reader, ServerCallStreamObserver<ReadResponse> out, CacheMetrics metrics) {
        this.digest = digest;
        this.reader = reader;
        this.out = out;
        this.metrics = metrics;
    }

    void start() {
        out.setOnCancelHandler(this::finish);
        out.setOnReadyHandler(this);
        run();
    }

    /** Called from the RPC method and from on-ready callbacks; synchronized so they never interleave. */
    @Override
    public synchronized void run() {
        try {
            while (!done && out.isReady()) {
                ByteBuffer piece = reader.next();
                if (piece == null) {
                    finish();
                    out.onCompleted();
                    return;
                }
                int n = piece.remaining();
                out.onNext(ReadResponse.newBuilder().setData(UnsafeByteOperations.unsafeWrap(piece)).build());
                metrics.bytesOut(n);
            }
        } catch (StoreException e) {
            if (e instanceof BlobCorruptException) {
                metrics.corruptBlob();
            }
            fail(Statuses.of(e));
        } catch (RuntimeException e) {
            log.error("cache-server: reading {} failed", digest, e);
            fail(Statuses.internal(e));
        }
    }

    private void fail(RuntimeException status) {
        if (!done) {
            finish();
            out.onError(status);
        }
    }

    private synchronized void finish() {
        if (!done) {
            done = true;
            reader.close();
        }
    }
}
