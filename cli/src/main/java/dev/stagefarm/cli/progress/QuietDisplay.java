package dev.stagefarm.cli.progress;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildResult;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/** {@code --progress quiet}: errors only; the timeline is still kept for {@code --trace}. */
final class QuietDisplay implements BuildDisplay {

    private final PrintStream err;
    private final LongSupplier clock;
    private final BuildTimeline timeline;
    private final PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());

    QuietDisplay(PrintStream err, LongSupplier clock) {
        this.err = err;
        this.clock = clock;
        this.timeline = new BuildTimeline(clock.getAsLong());
    }

    @Override
    public synchronized void event(BuildEvent event) {
        timeline.accept(event, clock.getAsLong());
    }

    @Override
    public void endEvents() {}

    @Override
    public PrintStream info() {
        return nowhere;
    }

    @Override
    public void summary(BuildResult result) {}

    @Override
    public void error(String message) {
        err.println("ERROR: " + message);
    }

    @Override
    public synchronized BuildTimeline timeline() {
        return timeline;
    }

    @Override
    public void close() {}
}
