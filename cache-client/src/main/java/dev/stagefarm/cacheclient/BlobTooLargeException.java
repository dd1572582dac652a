package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import java.io.IOException;

/** A blob read into memory is larger than its reader accepts; nothing beyond the limit was read. */
public final class BlobTooLargeException extends IOException {

    private final Digest digest;
    private final long limit;

    public BlobTooLargeException(Digest digest, long limit) {
        super("blob " + digest + " is larger than " + Units.formatSize(limit));
        this.digest = digest;
        this.limit = limit;
    }

    public Digest digest() {
        return digest;
    }

    public long limit() {
        return limit;
    }
}
