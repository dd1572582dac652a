package dev.stagefarm.cli.progress;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * While the tty display is live, lines written to {@code System.err} on the same terminal (the
 * embedded farm's warnings) are held and printed above the next frame, as BuildKit prints logs
 * above its progress: written straight through they would land inside the frame and the next
 * one would draw over half of them. Only when stderr is the display's terminal: stderr sent to
 * a file stays there.
 */
final class StderrAbove extends OutputStream {

    private final PrintStream original;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final List<String> pending = new ArrayList<>();

    private StderrAbove(PrintStream original) {
        this.original = original;
    }

    /** Takes over {@code System.err} when it writes to the terminal the display draws on. */
    static Optional<StderrAbove> install() {
        if (!stderrIsTheDisplaysTerminal()) {
            return Optional.empty();
        }
        StderrAbove capture = new StderrAbove(System.err);
        System.setErr(new PrintStream(capture, true, StandardCharsets.UTF_8));
        return Optional.of(capture);
    }

    /** The display draws on stdout when it is a terminal, else on stderr. */
    private static boolean stderrIsTheDisplaysTerminal() {
        try {
            String err = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            String out = Files.readSymbolicLink(Path.of("/proc/self/fd/1")).toString();
            return isTerminal(err) && (err.equals(out) || !isTerminal(out));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static boolean isTerminal(String device) {
        return device.startsWith("/dev/pts/") || device.startsWith("/dev/tty");
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            pending.add(line.toString(StandardCharsets.UTF_8));
            line.reset();
        } else {
            line.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    /** The complete lines written since the last call. */
    synchronized List<String> take() {
        List<String> lines = List.copyOf(pending);
        pending.clear();
        return lines;
    }

    /** Gives {@code System.err} back, with what was still held. */
    synchronized void restore() {
        System.setErr(original);
        take().forEach(original::println);
        if (line.size() > 0) {
            original.print(line.toString(StandardCharsets.UTF_8));
            line.reset();
        }
        original.flush();
    }
}
