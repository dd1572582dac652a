package dev.stagefarm.worker.exec;

/**
 * A process could not be run to completion: bad user, runc missing or failing to start the
 * process, timeout. A process that ran and exited non-zero is not an exception but an
 * {@link ExecResult}.
 */
public class ExecException extends Exception {

    private final int exitCode;

    public ExecException(String message) {
        this(message, -1, null);
    }

    public ExecException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** The exit code runc reported, or -1 when it never ran. */
    public int exitCode() {
        return exitCode;
    }
}
