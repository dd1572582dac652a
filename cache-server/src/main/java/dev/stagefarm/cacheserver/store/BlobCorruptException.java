package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** A stored blob no longer matches its digest; the store has already removed it. */
public final class BlobCorruptException extends StoreException {

    private final Digest digest;

    public BlobCorruptException(Digest digest, String what) {
        super("blob " + digest + " was corrupt in the cache (" + what + ") and has been removed; upload it again");
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }
}
