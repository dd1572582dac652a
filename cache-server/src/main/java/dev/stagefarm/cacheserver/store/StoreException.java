package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.edge.Statuses;

/**
 * Why the store could not do what was asked. Sealed, so the one place that turns these into
 * gRPC statuses ({@link Statuses}) handles every case.
 */
public abstract sealed class StoreException extends Exception
        permits BlobNotFoundException,
                BlobCorruptException,
                DigestMismatchException,
                InvalidWriteException,
                InvalidRangeException,
                UploadSupersededException,
                BlobTooLargeException,
                StorageFailureException {

    protected StoreException(String message) {
        super(message);
    }

    protected StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
