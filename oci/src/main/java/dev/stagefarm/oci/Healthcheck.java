package dev.stagefarm.oci;

import java.time.Duration;
import java.util.List;

/**
 * A HEALTHCHECK: {@code test} is {@code ["NONE"]}, {@code ["CMD", …]} or {@code ["CMD-SHELL", cmd]};
 * durations are null when not set (Docker's defaults apply), {@code retries} 0 when not set.
 */
public record Healthcheck(
        List<String> test,
        Duration interval,
        Duration timeout,
        Duration startPeriod,
        Duration startInterval,
        int retries) {

    public Healthcheck {
        test = List.copyOf(test);
    }
}
