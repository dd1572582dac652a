package dev.stagefarm.cacheserver.mounts;

import dev.stagefarm.cacheserver.store.StoreException;

/**
 * Why a cache-mount request cannot be done; {@link CacheMountService} turns each {@link Reason}
 * into one gRPC status. (Storage failures stay {@link StoreException}s.)
 */
public final class MountException extends Exception {

    enum Reason {
        /** A malformed id, path or entry: INVALID_ARGUMENT. */
        INVALID,
        /** The delta or a file it adds is not stored: FAILED_PRECONDITION (upload, then publish). */
        BLOBS_MISSING,
        /** The use named in a publish has ended (stream closed, connection lost): FAILED_PRECONDITION. */
        USE_ENDED,
        /** The use may not publish (PRIVATE copy, or no WRITE scope): PERMISSION_DENIED. */
        NOT_PUBLISHING
    }

    private final Reason reason;

    MountException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    Reason reason() {
        return reason;
    }
}
