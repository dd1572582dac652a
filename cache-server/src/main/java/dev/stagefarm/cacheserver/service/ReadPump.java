package dev.stagefarm.cacheserver.service;

import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.cacheserver.edge.Statuses;
import dev.stagefarm.cacheserver.store.BlobCorruptException;
import dev.stagefarm.cacheserver.store.BlobReader;
import dev.stagefarm.cacheserver.store.StoreException;
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
public final class ReadPump implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ReadPump.class);

    /**
     * Bytes per message: a quarter of a stored chunk. A client JVM copies each message into an
     * array of its own; at 1 MiB that array is a "humongous" allocation for G1 (half a region or
     * more) on every message, which cost more than the hashing on the read path.
     */
    static final int MESSAGE_BYTES = 256 << 10;

    /**
     * Bytes the transport may hold unsent before the call stops being ready: four messages.
     * gRPC's default, 32 KiB, is less than one message, so every message was a round trip of
     * "not ready" and "ready again" between the pump and the transport's thread.
     */
    static final int ON_READY_THRESHOLD = 4 * MESSAGE_BYTES;

    private final Digest digest;
    private final BlobReader reader;
    private final ServerCallStreamObserver<ReadResponse> out;
    private final CacheMetrics metrics;
    private boolean done;
    /** The rest of the chunk being sent. */
    private ByteBuffer pending;

    /**
     * @param sendCopies whether the transport has copied a message by the time {@code onNext}
     *                   returns (Netty serializes it into its own buffers then; the in-process
     *                   transport hands the message itself to the client). Only then may the
     *                   reader refill one buffer for every chunk.
     */
    ReadPump(
            Digest digest,
            BlobReader reader,
            ServerCallStreamObserver<ReadResponse> out,
            CacheMetrics metrics,
            boolean sendCopies) {
        this.digest = digest;
        this.reader = sendCopies ? reader.reusingBuffer() : reader;
        this.out = out;
        this.metrics = metrics;
    }

    void start() {
        out.setOnReadyThreshold(ON_READY_THRESHOLD);
        out.setOnCancelHandler(this::finish);
        out.setOnReadyHandler(this);
        run();
    }

    /** Called from the RPC method and from on-ready callbacks; synchronized so they never interleave. */
    @Override
    public synchronized void run() {
        try {
            while (!done && out.isReady()) {
                if (pending == null || !pending.hasRemaining()) {
                    pending = reader.next();
                }
                if (pending == null) {
                    finish();
                    out.onCompleted();
                    return;
                }
                int n = Math.min(MESSAGE_BYTES, pending.remaining());
                ByteBuffer piece = pending.slice(pending.position(), n);
                pending.position(pending.position() + n);
                out.onNext(ReadResponse.newBuilder()
                        .setData(UnsafeByteOperations.unsafeWrap(piece))
                        .build());
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
