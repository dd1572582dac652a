package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.InvalidValueException;
import java.util.regex.Pattern;

/** Checks a {@code --chmod} value early, so a typo fails at planning with the Dockerfile line, not on a worker. */
final class Chmod {

    private static final Pattern OCTAL = Pattern.compile("[0-7]{1,4}");
    private static final Pattern SYMBOLIC = Pattern.compile("[ugoa]*([-+=][rwxXst]*)+(,[ugoa]*([-+=][rwxXst]*)+)*");

    private Chmod() {}

    static void validate(String mode) throws InvalidValueException {
        if (!OCTAL.matcher(mode).matches() && !SYMBOLIC.matcher(mode).matches()) {
            throw new InvalidValueException(
                    "--chmod=" + mode + ": expected an octal mode such as 0755 or a" + " symbolic one such as u+x,g-w");
        }
    }
}
