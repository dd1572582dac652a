package dev.stagefarm.cacheserver;

/** The storage engine itself failed: disk full, I/O error, a damaged database. */
public final class StorageFailureException extends StoreException {

    public StorageFailureException(String what, Throwable cause) {
        super("the cache's storage failed while " + what + ": " + cause.getMessage()
                + "; see the cache-server log", cause);
    }
}
