package dev.stagefarm.cli.build;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** A failed call to the farm as the one sentence a user acts on. */
public final class FarmErrors {

    private FarmErrors() {}

    static String describe(String address, StatusRuntimeException e) {
        return describe("the farm's coordinator", "--coordinator", address, e);
    }

    /**
     * The sentence for a call that {@code command} (or a command above it) made to the server
     * its {@code --coordinator} or {@code --cache} option names.
     */
    public static String describe(CommandLine command, StatusRuntimeException e) {
        for (CommandLine c = command; c != null; c = c.getParent()) {
            OptionSpec coordinator = c.getCommandSpec().findOption("--coordinator");
            if (coordinator != null && coordinator.getValue() != null) {
                return describe("the farm's coordinator", "--coordinator", coordinator.getValue(), e);
            }
            OptionSpec cache = c.getCommandSpec().findOption("--cache");
            if (cache != null && cache.getValue() != null) {
                return describe("the cache-server", "--cache", cache.getValue(), e);
            }
        }
        return describe("the farm", "--coordinator", "(no address given)", e);
    }

    private static String describe(String server, String option, Object address, StatusRuntimeException e) {
        Status s = e.getStatus();
        String detail = s.getDescription() == null ? "" : s.getDescription();
        return switch (s.getCode()) {
            case UNAVAILABLE ->
                "cannot reach " + server + " at " + address
                        + " (nothing answers there, or it speaks TLS and --tls-ca is missing): start it,"
                        + " or name the right one with " + option + " HOST:PORT";
            // the servers' own sentences say which token and what to do
            case UNAUTHENTICATED, PERMISSION_DENIED ->
                detail.isEmpty()
                        ? "the farm at " + address
                                + " refused the token: pass a valid one with --token or STAGEFARM_TOKEN"
                        : detail;
            case DEADLINE_EXCEEDED -> "the farm at " + address + " did not answer in time: " + detail;
            // the server's sentence says what is missing and where to look
            case NOT_FOUND -> "not found: " + detail;
            default -> "the farm at " + address + " failed: " + s.getCode() + (detail.isEmpty() ? "" : ": " + detail);
        };
    }
}
