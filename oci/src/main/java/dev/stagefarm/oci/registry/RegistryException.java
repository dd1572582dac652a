package dev.stagefarm.oci.registry;

/**
 * A registry operation failed. The message is a sentence for the user: what was attempted, what the
 * registry (or the network) answered, and what to do about it.
 */
public class RegistryException extends Exception {

    private final int httpStatus;
    private final String errorCode;

    public RegistryException(String message, int httpStatus, String errorCode, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    public RegistryException(String message) {
        this(message, 0, null, null);
    }

    public RegistryException(String message, Throwable cause) {
        this(message, 0, null, cause);
    }

    /** The HTTP status the registry answered, 0 when it did not answer. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The Distribution API error code ({@code MANIFEST_UNKNOWN}, …), or null. */
    public String errorCode() {
        return errorCode;
    }

    /** This failure as part of a user-level action: {@code "pull golang:latest: <message>"}. */
    RegistryException during(String action) {
        return new RegistryException(action + ": " + getMessage(), httpStatus, errorCode, this);
    }
}
