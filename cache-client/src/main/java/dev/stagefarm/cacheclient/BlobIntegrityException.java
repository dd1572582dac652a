package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import io.grpc.Status;

/**
 * A blob's bytes did not match its digest: the server found its copy corrupt (and dropped it),
 * or the bytes that arrived hash to something else. Never data.
 */
public final class BlobIntegrityException extends CacheException {

    public BlobIntegrityException(String message, Throwable cause) {
        super(message, Status.Code.DATA_LOSS, cause);
    }

    /** Throws unless {@code actual}, the hash of {@code bytes} bytes received from {@code target}, is {@code expected}. */
    static void check(Digest expected, Digest actual, long bytes, String target) throws BlobIntegrityException {
        if (!actual.equals(expected)) {
            throw new BlobIntegrityException(
                    "the " + bytes + " bytes received from " + target + " as " + expected + " hash to " + actual
                            + "; discard them and retry",
                    null);
        }
    }
}
