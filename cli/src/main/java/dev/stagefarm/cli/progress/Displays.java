package dev.stagefarm.cli.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/** {@code --progress MODE}: the display for each mode. */
public final class Displays {

    public static final String MODES = "auto, tty, plain, quiet or rawjson";

    private Displays() {}

    /** Refuses an unknown mode with the sentence a user reads. */
    public static String check(String mode) {
        String m = mode.toLowerCase(Locale.ROOT);
        if (!m.equals("auto") && !m.equals("tty") && !m.equals("plain") && !m.equals("quiet") && !m.equals("rawjson")) {
            throw new IllegalArgumentException("--progress " + mode + ": expected " + MODES);
        }
        return m;
    }

    /**
     * The display for {@code mode}. {@code auto} and {@code tty} draw on the terminal when
     * stdout or stderr is one, and fall back to plain lines when neither is (a pipe, a log).
     */
    public static BuildDisplay open(String mode, PrintStream out, PrintStream err) {
        LongSupplier clock = System::nanoTime;
        return switch (check(mode)) {
            case "quiet" -> new QuietDisplay(err, clock);
            case "rawjson" -> new RawJsonDisplay(out, err, clock);
            case "plain" -> new PlainDisplay(out, err, clock);
            default -> TtyDisplay.open(out, err, clock).orElseGet(() -> new PlainDisplay(out, err, clock));
        };
    }
}
