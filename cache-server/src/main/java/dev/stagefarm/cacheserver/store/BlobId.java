package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** A blob of one namespace: the same digest in two teams is two blobs, stored twice. */
public record BlobId(Namespace namespace, Digest digest) {

    @Override
    public String toString() {
        return namespace.team().isEmpty() ? digest.toString() : digest + " of team " + namespace.team();
    }
}
