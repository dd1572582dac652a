package dev.stagefarm.cli.progress;

import dev.stagefarm.proto.farm.BuildEvent;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.InfoCmp;

/**
 * {@code --progress tty}: the build redrawn in place ten times a second on the terminal, as
 * BuildKit's display. JLine finds the terminal, its size (again at every frame: a resized
 * window fits at once) and the escape sequences it understands for moving up and erasing
 * (terminfo); {@link TtyRenderer} decides what the lines say. (JLine's own {@code Display}
 * diffs lines but probes the terminal with queries whose answers would land in the user's
 * shell after the build; a progress display reads no input.)
 */
final class TtyDisplay extends TimelineDisplay {

    /** Frames per second: a timer that moves by a tenth of a second reads as live. */
    static final long FRAME_MILLIS = 100;

    private final Terminal terminal;
    private final ScheduledExecutorService frames = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tty-progress");
        t.setDaemon(true);
        return t;
    });
    /** Lines of the last frame: the next one starts that many lines up. */
    private int drawn;
    /** Frames start with the build's first event: the client's own lines (context upload) come before. */
    private boolean started;

    private boolean live = true;
    /** The embedded farm's log lines, held for the space above the next frame. */
    private final Optional<StderrAbove> logs;

    private TtyDisplay(Terminal terminal, PrintStream out, PrintStream err, LongSupplier clock) {
        super(out, err, clock);
        this.terminal = terminal;
        this.logs = StderrAbove.install();
        frames.scheduleAtFixedRate(this::frame, FRAME_MILLIS, FRAME_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The display on this process's terminal (stdout's, else stderr's); empty when neither is one. */
    static Optional<BuildDisplay> open(PrintStream out, PrintStream err, LongSupplier clock) {
        try {
            Terminal terminal = TerminalBuilder.builder()
                    .system(true)
                    .systemOutput(TerminalBuilder.SystemOutput.SysOutOrSysErr)
                    .dumb(true)
                    // no probing of the terminal's modes: its answers arrive as input, which a
                    // display that reads none would leave for the user's shell after the build
                    .graphemeCluster(false)
                    // Ctrl-C stays the JVM's (shutdown hooks run); the size is read at every frame
                    .nativeSignals(false)
                    .build();
            if (terminal.getType().startsWith(Terminal.TYPE_DUMB)) {
                terminal.close();
                return Optional.empty();
            }
            return Optional.of(new TtyDisplay(terminal, out, err, clock));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    void show(BuildEvent event, long now) {
        started = true;
    }

    private synchronized void frame() {
        if (live) {
            draw(false);
        }
    }

    /**
     * Draws a frame over the last one, as BuildKit does: back up over the lines drawn last
     * time, write each line and erase what is left of the old one, then erase below (a frame
     * can be shorter than the last). Lines are shorter than the terminal is wide, so the
     * terminal never wraps them and the count of lines to back up over stays true.
     */
    private void draw(boolean finished) {
        Size size = terminal.getSize();
        int cols = size.getColumns() > 0 ? size.getColumns() : 80;
        int rows = size.getRows() > 0 ? size.getRows() : 24;
        List<String> above = logs.map(StderrAbove::take).orElse(List.of());
        if (!started && above.isEmpty()) {
            return;
        }
        List<String> lines =
                started ? TtyRenderer.render(timeline, clock.getAsLong(), cols, rows, finished) : List.of();
        var w = terminal.writer();
        if (drawn > 0) {
            terminal.puts(InfoCmp.Capability.carriage_return);
            if (!terminal.puts(InfoCmp.Capability.parm_up_cursor, drawn)) {
                for (int i = 0; i < drawn; i++) {
                    terminal.puts(InfoCmp.Capability.cursor_up);
                }
            }
        }
        for (String line : above) {
            w.write(TtyRenderer.clean(line));
            terminal.puts(InfoCmp.Capability.clr_eol);
            w.write('\n');
        }
        for (String line : lines) {
            w.write(line);
            terminal.puts(InfoCmp.Capability.clr_eol);
            w.write('\n');
        }
        terminal.puts(InfoCmp.Capability.clr_eos);
        terminal.flush();
        drawn = lines.size();
    }

    @Override
    public void endEvents() {
        frames.shutdownNow();
        synchronized (this) {
            if (live) {
                live = false;
                draw(true);
                logs.ifPresent(StderrAbove::restore);
            }
        }
    }

    @Override
    public void error(String message) {
        endEvents();
        super.error(message);
    }

    @Override
    public void close() {
        endEvents();
        try {
            terminal.close();
        } catch (IOException e) {
            // the process is ending; nothing is left to restore
        }
    }
}
