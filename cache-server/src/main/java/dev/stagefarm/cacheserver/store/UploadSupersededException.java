package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** A newer upload of the same blob took over this one's session (typically the same client resuming). */
public final class UploadSupersededException extends StoreException {

    public UploadSupersededException(Digest digest) {
        super("a newer upload of " + digest + " took over; this stream is obsolete, so call QueryWrite and resume");
    }
}
