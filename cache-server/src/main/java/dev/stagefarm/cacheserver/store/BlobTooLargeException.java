package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** A blob larger than the whole --max-size budget: storing it would evict everything, itself included. */
public final class BlobTooLargeException extends StoreException {

    public BlobTooLargeException(Digest digest, long size, long maxBytes) {
        super("blob " + digest + " has " + size + " bytes, more than the cache's whole --max-size of " + maxBytes
                + " bytes; raise --max-size or do not cache this blob");
    }
}
