package dev.stagefarm.cacheserver.store;

/** The storage engine itself failed: disk full, I/O error, a damaged database. */
public final class StorageFailureException extends StoreException {

    public StorageFailureException(String what, Throwable cause) {
        super(
                "the cache's storage failed while " + what + ": " + cause.getMessage() + "; see the cache-server log",
                cause);
    }

    private StorageFailureException(String sentence) {
        super(sentence, null);
    }

    /** A store this cache-server cannot open as it is, with what to do about it. */
    static StorageFailureException unreadable(String sentence) {
        return new StorageFailureException(sentence);
    }
}
