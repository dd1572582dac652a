package dev.stagefarm.worker.job;

/** A step that did not complete; the message is what the user reads, starting with the Dockerfile line. */
public final class StepFailedException extends Exception {

    public StepFailedException(String message) {
        super(message);
    }

    public StepFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
