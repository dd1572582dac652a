package dev.stagefarm.cli.progress;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildResult;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * What every display does alike: it keeps the build's timeline (for the summary and for
 * {@code --trace}, whatever it shows), prints the summary and the error as buildx does, and
 * lets a mode decide only how an event is shown.
 */
abstract class TimelineDisplay implements BuildDisplay {

    /** Where lines nobody asked for go. */
    static final PrintStream NOWHERE = new PrintStream(OutputStream.nullOutputStream());

    final PrintStream out;
    final PrintStream err;
    final LongSupplier clock;
    final BuildTimeline timeline;

    TimelineDisplay(PrintStream out, PrintStream err, LongSupplier clock) {
        this.out = out;
        this.err = err;
        this.clock = clock;
        this.timeline = new BuildTimeline(clock.getAsLong());
    }

    @Override
    public final synchronized void event(BuildEvent event) {
        long now = clock.getAsLong();
        timeline.accept(event, now);
        show(event, now);
    }

    /** Shows one event, already in the timeline; called under this display's lock. */
    void show(BuildEvent event, long now) {}

    @Override
    public void endEvents() {}

    @Override
    public PrintStream info() {
        return out;
    }

    @Override
    public synchronized void summary(BuildResult result) {
        BuildSummary.of(timeline, result, clock.getAsLong()).lines().forEach(out::println);
        out.flush();
    }

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
