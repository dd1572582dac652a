package dev.stagefarm.worker.job;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long each part of a job's step took, logged at debug when the step ends: where a step's
 * time beyond its own command goes (issue 12's wide graph: the per-RUN cost of runc, the commit,
 * the upload). One line a step, e.g. {@code job b1-3 step 2: layers 0.1 ms, snapshot 3.2 ms, run
 * 2210.4 ms, commit 8.0 ms, publish 41.3 ms, action 2.1 ms}. Turn it on with {@code
 * -Dorg.slf4j.simpleLogger.log.dev.stagefarm.worker.job.StepPhases=debug}.
 */
final class StepPhases {

    private static final Logger log = LoggerFactory.getLogger(StepPhases.class);

    private final String what;
    private final boolean on = log.isDebugEnabled();
    private final StringBuilder line = new StringBuilder();
    private long last = System.nanoTime();

    StepPhases(String what) {
        this.what = what;
    }

    /** The phase that ends now took the time since the previous one ended. */
    void ended(String phase) {
        if (!on) {
            return;
        }
        long now = System.nanoTime();
        line.append(line.isEmpty() ? "" : ", ")
                .append(phase)
                .append(' ')
                .append(String.format(Locale.ROOT, "%.1f ms", (now - last) / 1e6));
        last = now;
    }

    /** Logs the phases ended so far. */
    void log() {
        if (on) {
            log.debug("{}: {}", what, line);
        }
    }
}
