package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** Uploaded bytes hash to another digest than the one they were sent as; nothing was stored. */
public final class DigestMismatchException extends StoreException {

    private final Digest expected;
    private final Digest actual;

    public DigestMismatchException(Digest expected, Digest actual, long size) {
        super("uploaded " + size + " bytes as " + expected + " but they hash to " + actual
                + "; nothing was stored: check the file did not change while it was uploaded");
        this.expected = expected;
        this.actual = actual;
    }

    public Digest expected() {
        return expected;
    }

    public Digest actual() {
        return actual;
    }
}
