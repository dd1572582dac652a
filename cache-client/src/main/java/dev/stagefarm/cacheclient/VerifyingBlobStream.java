package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ReadResponse;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Iterator;

/**
 * A blob as an InputStream over a Read call. It hashes what it hands out and, at the end,
 * throws {@link BlobIntegrityException} rather than report EOF when the bytes do not match the
 * digest. The blocking iterator asks for one message at a time, so the server never sends
 * further ahead than the reader consumes. Closing early cancels the call.
 */
final class VerifyingBlobStream extends InputStream {

    private final Digest digest;
    private final Iterator<ReadResponse> responses;
    private final Context.CancellableContext call;
    private final String target;
    private final MessageDigest sha256 = Digest.newSha256();
    private ByteBuffer current = ByteBuffer.allocate(0);
    private long total;
    private boolean eof;
    private boolean closed;

    VerifyingBlobStream(Digest digest, Iterator<ReadResponse> responses, Context.CancellableContext call, String target) {
        this.digest = digest;
        this.responses = responses;
        this.call = call;
        this.target = target;
    }

    /** Waits for the first message, so that a missing blob fails here rather than on first read. */
    VerifyingBlobStream prime() throws IOException {
        try {
            advance();
            return this;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
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
        // Hashed from the caller's array: a read-only buffer would go through a 4 KiB temp copy.
        sha256.update(b, off, n);
        return n;
    }

    /** Moves to the next non-exhausted message; false at a verified end. */
    private boolean advance() throws IOException {
        if (eof) {
            return false;
        }
        try {
            if (responses.hasNext()) {
                current = responses.next().getData().asReadOnlyByteBuffer();
                total += current.remaining();
                return true;
            }
        } catch (StatusRuntimeException e) {
            eof = true;
            call.cancel(null);
            throw CacheErrors.translate(e, "reading " + digest, digest, target);
        }
        eof = true;
        Digest actual = Digest.fromBytes(sha256.digest());
        if (!actual.equals(digest)) {
            throw new BlobIntegrityException("the " + total + " bytes received from " + target + " as " + digest
                    + " hash to " + actual + "; discard them and retry", null);
        }
        return false;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            // Cancelling a finished call is a no-op; an unfinished one stops the server's sending.
            call.cancel(null);
        }
    }
}
