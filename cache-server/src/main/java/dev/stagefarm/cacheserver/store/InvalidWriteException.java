package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;

/** A write that cannot be applied as sent: a gap before its offset, bytes past the declared size, a short finish. */
public final class InvalidWriteException extends StoreException {

    /** Whether the write went beyond what the store holds (OUT_OF_RANGE) rather than being malformed. */
    private final boolean outOfRange;

    private InvalidWriteException(String message, boolean outOfRange) {
        super(message);
        this.outOfRange = outOfRange;
    }

    public static InvalidWriteException gap(Digest digest, long offset, long committed) {
        return new InvalidWriteException(
                "write of " + digest + " at offset " + offset + " but only " + committed
                        + " bytes are committed; call QueryWrite and resume from there",
                true);
    }

    public static InvalidWriteException tooLong(Digest digest, long declared) {
        return new InvalidWriteException(
                "write of " + digest + " sends more than its declared size of " + declared + " bytes", false);
    }

    public static InvalidWriteException shortFinish(Digest digest, long received, long declared) {
        return new InvalidWriteException(
                "write of " + digest + " finished after " + received + " bytes but declared size " + declared
                        + "; send the rest, then finish",
                false);
    }

    public boolean outOfRange() {
        return outOfRange;
    }
}
