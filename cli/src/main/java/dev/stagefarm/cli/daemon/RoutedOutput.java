package dev.stagefarm.cli.daemon;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * System.out and System.err of the resident client: a command's threads write to their
 * {@link Session}'s connection, every other thread (and a session's thread after its client went)
 * to the daemon's own log. Commands keep printing to System.out as in a process of their own.
 */
final class RoutedOutput extends OutputStream {

    private final OutputStream log;
    private final byte stream;

    private RoutedOutput(OutputStream log, byte stream) {
        this.log = log;
        this.stream = stream;
    }

    static void install() {
        System.setOut(
                new PrintStream(new RoutedOutput(System.out, DaemonProtocol.STDOUT), true, StandardCharsets.UTF_8));
        System.setErr(
                new PrintStream(new RoutedOutput(System.err, DaemonProtocol.STDERR), true, StandardCharsets.UTF_8));
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Session s = Session.CURRENT.get();
        if (s != null && !s.closed()) {
            try {
                s.write(stream, b, off, len);
                return;
            } catch (IOException gone) {
                s.markClosed();
            }
        }
        log.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
        log.flush();
    }
}
