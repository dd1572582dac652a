package dev.stagefarm.cacheclient;

import com.google.common.util.concurrent.MoreExecutors;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ReadRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * A blob as an InputStream over a Read call. It hashes what it hands out and, at the end,
 * throws {@link BlobIntegrityException} rather than report EOF when the bytes do not match the
 * digest. Closing early cancels the call.
 *
 * <p>The call's messages arrive on the transport's own thread (no hop through an executor) into
 * a queue the reader drains. The stream asks for {@link #AHEAD} messages ahead and tops the
 * request up in batches, so the server streams without waiting on the reader while at most
 * AHEAD messages (a few MiB of transport buffers) wait in memory, however slow the reader.
 */
final class VerifyingBlobStream extends InputStream {

    /** Messages requested ahead of the reader: 16 × 256 KiB, four times the server's on-ready threshold. */
    static final int AHEAD = 16;
    /** The request is topped up once this many messages were read: one wake-up of the transport per batch. */
    private static final int BATCH = AHEAD / 2;

    private final Digest digest;
    private final String target;
    private final ClientCall<ReadRequest, ReadMessages.Message> call;
    private final MessageDigest sha256 = Digest.newSha256();
    /** Messages received and not yet read, and the call's end once it came; guarded by itself. */
    private final ArrayDeque<Object> arrived = new ArrayDeque<>();

    private ReadMessages.Message message;
    private Iterator<ByteBuffer> pieces;
    private ByteBuffer current = ByteBuffer.allocate(0);
    private int readSinceRequest;
    private long total;
    private boolean eof;
    private boolean closed;

    private record End(Status status) {}

    private VerifyingBlobStream(Digest digest, Channel channel, String target) {
        this.digest = digest;
        this.target = target;
        this.call =
                channel.newCall(ReadMessages.METHOD, CallOptions.DEFAULT.withExecutor(MoreExecutors.directExecutor()));
    }

    /** Starts the call and waits for its first message, so that a missing blob fails here rather than on first read. */
    static VerifyingBlobStream open(Digest digest, ReadRequest request, Channel channel, String target)
            throws IOException {
        VerifyingBlobStream stream = new VerifyingBlobStream(digest, channel, target);
        try {
            stream.start(request);
            stream.advance();
            return stream;
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw e;
        }
    }

    private void start(ReadRequest request) {
        call.start(
                new ClientCall.Listener<>() {
                    @Override
                    public void onMessage(ReadMessages.Message received) {
                        arrive(received);
                    }

                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        arrive(new End(status));
                    }
                },
                new Metadata());
        call.sendMessage(request);
        call.halfClose();
        call.request(AHEAD);
    }

    /** On the transport's thread. A message that arrives after close is released at once. */
    private void arrive(Object item) {
        synchronized (arrived) {
            if (!closed) {
                arrived.addLast(item);
                arrived.notifyAll();
                return;
            }
        }
        if (item instanceof ReadMessages.Message late) {
            late.release();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream of " + digest + " is closed");
        }
        if (len == 0) {
            return 0;
        }
        while (!current.hasRemaining()) {
            if (!advance()) {
                return -1;
            }
        }
        int n = Math.min(len, current.remaining());
        current.get(b, off, n);
        // Hashed from the caller's array: a direct or read-only buffer goes through a 4 KiB temp copy.
        sha256.update(b, off, n);
        return n;
    }

    /** Moves to the next non-empty piece of data; false at a verified end. */
    private boolean advance() throws IOException {
        while (true) {
            if (eof) {
                return false;
            }
            if (pieces != null && pieces.hasNext()) {
                current = pieces.next();
                return true;
            }
            if (message != null) {
                message.release();
                message = null;
                pieces = null;
                if (++readSinceRequest == BATCH) {
                    readSinceRequest = 0;
                    call.request(BATCH);
                }
            }
            Object next = take();
            if (next instanceof ReadMessages.Message received) {
                message = received;
                total += received.size();
                pieces = received.data().iterator();
            } else {
                eof = true;
                finish(((End) next).status());
                return false;
            }
        }
    }

    private Object take() throws IOException {
        synchronized (arrived) {
            while (arrived.isEmpty()) {
                try {
                    arrived.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    close();
                    throw new InterruptedIOException("interrupted while reading " + digest + " from " + target);
                }
            }
            return arrived.removeFirst();
        }
    }

    private void finish(Status status) throws IOException {
        if (!status.isOk()) {
            throw CacheErrors.translate(status.asRuntimeException(), "reading " + digest, digest, target);
        }
        BlobIntegrityException.check(digest, Digest.fromBytes(sha256.digest()), total, target);
    }

    @Override
    public void close() {
        synchronized (arrived) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (!eof) {
            // Cancelling stops the server's sending; a finished call ignores it.
            call.cancel("the reader closed the stream", null);
        }
        if (message != null) {
            message.release();
            message = null;
        }
        synchronized (arrived) {
            for (Object item : arrived) {
                if (item instanceof ReadMessages.Message unread) {
                    unread.release();
                }
            }
            arrived.clear();
        }
    }
}
