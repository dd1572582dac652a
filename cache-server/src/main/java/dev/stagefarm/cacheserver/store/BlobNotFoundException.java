package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** The store does not hold the blob. */
public final class BlobNotFoundException extends StoreException {

    private final Digest digest;

    public BlobNotFoundException(Digest digest) {
        super("blob " + digest + " is not in the cache; upload it first");
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }
}
