package dev.stagefarm.cli.progress;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildResult;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/** {@code --progress plain}: buildx's plain lines as they come, then the summary. */
final class PlainDisplay implements BuildDisplay {

    private final ProgressPrinter printer;
    private final PrintStream out;
    private final PrintStream err;
    private final LongSupplier clock;
    private final BuildTimeline timeline;

    PlainDisplay(PrintStream out, PrintStream err, LongSupplier clock) {
        this.printer = new ProgressPrinter(out);
        this.out = out;
        this.err = err;
        this.clock = clock;
        this.timeline = new BuildTimeline(clock.getAsLong());
    }

    @Override
    public synchronized void event(BuildEvent event) {
        timeline.accept(event, clock.getAsLong());
        printer.accept(event);
    }

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
