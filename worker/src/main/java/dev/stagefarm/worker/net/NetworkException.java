package dev.stagefarm.worker.net;

/** A step's network could not be given: not allowed on this worker, or its namespace failed to set up. */
public final class NetworkException extends Exception {

    public NetworkException(String message) {
        super(message);
    }

    public NetworkException(String message, Throwable cause) {
        super(message, cause);
    }
}
