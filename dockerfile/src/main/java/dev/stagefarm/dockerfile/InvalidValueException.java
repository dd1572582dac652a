package dev.stagefarm.dockerfile;

/**
 * A single value that cannot be used: a bad {@code ${...}} substitution, a {@code --mount}
 * specification or a duration. It carries no location; callers that know the instruction turn
 * it into a {@link DockerfileException}.
 */
public final class InvalidValueException extends Exception {

    public InvalidValueException(String message) {
        super(message);
    }
}
