package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;

/** Turns gRPC failures into the IOExceptions the client's callers handle. */
final class CacheErrors {

    private CacheErrors() {}

    /**
     * @param what    what was being done, as in "reading sha256:…"
     * @param digest  the blob concerned, or null
     */
    static IOException translate(StatusRuntimeException e, String what, Digest digest, String target) {
        Status status = e.getStatus();
        String detail = detail(status);
        return switch (status.getCode()) {
            case NOT_FOUND -> {
                NoSuchFileException missing = new NoSuchFileException(
                        digest != null ? digest.toString() : what,
                        null,
                        "not in the cache at " + target + ": " + detail);
                missing.initCause(e);
                yield missing;
            }
            case DATA_LOSS -> new BlobIntegrityException(what + " at " + target + ": " + detail, e);
            case UNAVAILABLE ->
                new CacheException(
                        "cache-server " + target + " is unreachable while " + what + " (" + detail
                                + "); is it running, and if it serves TLS, did you pass --tls-ca?",
                        status.getCode(),
                        e);
            case UNAUTHENTICATED, PERMISSION_DENIED ->
                new CacheException("cache-server " + target + " refused " + what + ": " + detail, status.getCode(), e);
            case DEADLINE_EXCEEDED ->
                new CacheException(
                        "cache-server " + target + " did not answer in time while " + what, status.getCode(), e);
            default ->
                new CacheException(
                        what + " at " + target + " failed: " + status.getCode() + ": " + detail, status.getCode(), e);
        };
    }

    /**
     * The status's description and, for a transport's failure (gRPC says only "io exception"),
     * what the socket said: "Connection refused: /127.0.0.1:5005" tells nobody is listening there,
     * "Connection reset by peer" that something was and hung up.
     */
    private static String detail(Status status) {
        String detail = status.getDescription() != null
                ? status.getDescription()
                : status.getCode().name();
        Throwable cause = status.getCause();
        if (cause != null && cause.getMessage() != null && !detail.contains(cause.getMessage())) {
            detail = detail + ": " + cause.getMessage();
        }
        return detail;
    }

    /** Whether an interrupted upload is worth resuming: the stream broke, the request was fine. */
    static boolean isTransient(Status.Code code) {
        return switch (code) {
            case UNAVAILABLE, ABORTED, CANCELLED, DEADLINE_EXCEEDED, UNKNOWN, INTERNAL, RESOURCE_EXHAUSTED -> true;
            default -> false;
        };
    }
}
