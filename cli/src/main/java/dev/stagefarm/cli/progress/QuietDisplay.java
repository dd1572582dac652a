package dev.stagefarm.cli.progress;

import java.io.PrintStream;
import java.util.function.LongSupplier;

/** {@code --progress quiet}: errors only; the timeline is still kept for {@code --trace}. */
final class QuietDisplay extends TimelineDisplay {

    QuietDisplay(PrintStream err, LongSupplier clock) {
        super(NOWHERE, err, clock);
    }
}
