package dev.stagefarm.cacheclient;

import io.grpc.Status;
import java.io.IOException;

/** The cache-server refused or failed a request; {@link #code()} says how. */
public class CacheException extends IOException {

    private final Status.Code code;

    public CacheException(String message, Status.Code code, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }
}
