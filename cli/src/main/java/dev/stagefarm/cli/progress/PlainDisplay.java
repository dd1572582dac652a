package dev.stagefarm.cli.progress;

import dev.stagefarm.proto.farm.BuildEvent;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/** {@code --progress plain}: buildx's plain lines as they come, then the summary. */
final class PlainDisplay extends TimelineDisplay {

    private final ProgressPrinter printer;

    PlainDisplay(PrintStream out, PrintStream err, LongSupplier clock) {
        super(out, err, clock);
        this.printer = new ProgressPrinter(out);
    }

    @Override
    void show(BuildEvent event, long now) {
        printer.accept(event);
    }

    @Override
    public void endEvents() {
        printer.finish();
    }
}
