package dev.stagefarm.cli.build;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** A failed call to the farm as the one sentence a user acts on. */
final class FarmErrors {

    private FarmErrors() {}

    static String describe(String address, StatusRuntimeException e) {
        Status s = e.getStatus();
        String detail = s.getDescription() == null ? "" : s.getDescription();
        return switch (s.getCode()) {
            case UNAVAILABLE ->
                "cannot reach the farm's coordinator at " + address
                        + " (nothing answers there, or it speaks TLS and --tls-ca is missing): start it,"
                        + " or name the right one with --coordinator HOST:PORT";
            // the servers' own sentences say which token and what to do
            case UNAUTHENTICATED, PERMISSION_DENIED ->
                detail.isEmpty()
                        ? "the farm at " + address
                                + " refused the token: pass a valid one with --token or STAGEFARM_TOKEN"
                        : detail;
            case DEADLINE_EXCEEDED -> "the farm at " + address + " did not answer in time: " + detail;
            default -> "the farm at " + address + " failed: " + s.getCode() + (detail.isEmpty() ? "" : ": " + detail);
        };
    }
}
