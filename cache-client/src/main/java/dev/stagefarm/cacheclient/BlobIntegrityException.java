package dev.stagefarm.cacheclient;

import io.grpc.Status;

/**
 * A blob's bytes did not match its digest: the server found its copy corrupt (and dropped it),
 * or the bytes that arrived hash to something else. Never data.
 */
public final class BlobIntegrityException extends CacheException {

    public BlobIntegrityException(String message, Throwable cause) {
        super(message, Status.Code.DATA_LOSS, cause);
    }
}
