package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** A read that starts past the end of the blob. */
public final class InvalidRangeException extends StoreException {

    public InvalidRangeException(Digest digest, long offset, long size) {
        super("read of " + digest + " at offset " + offset + " but the blob has only " + size + " bytes");
    }
}
