package dev.stagefarm.cli.daemon;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;

/**
 * One command run for a thin start: what it sent, and its stdout and stderr as frames on the
 * connection. Output after the connection went (Ctrl-C) is dropped.
 */
final class Session {

    /** The session of the command this thread (or the thread that started it) runs. */
    static final InheritableThreadLocal<Session> CURRENT = new InheritableThreadLocal<>();

    final String cwd;
    final String[] args;
    final Map<String, String> env;
    final boolean stdoutIsTerminal;
    final boolean stderrIsTerminal;

    private final DataOutputStream frames;
    private volatile boolean closed;
    private boolean wroteOutput;

    Session(String cwd, String[] args, Map<String, String> env, boolean stdoutTty, boolean stderrTty, OutputStream to) {
        this.cwd = cwd;
        this.args = args;
        this.env = env;
        this.stdoutIsTerminal = stdoutTty;
        this.stderrIsTerminal = stderrTty;
        this.frames = new DataOutputStream(to);
    }

    /** Whether the command of the thin start that is connected on this thread writes to a terminal. */
    static boolean stdoutIsTerminalForCurrent() {
        Session s = CURRENT.get();
        return s != null && s.stdoutIsTerminal;
    }

    synchronized void write(byte stream, byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("the client has gone");
        }
        wroteOutput = true;
        frames.writeByte(stream);
        frames.writeInt(len);
        frames.write(b, off, len);
        frames.flush();
    }

    synchronized boolean wroteOutput() {
        return wroteOutput;
    }

    synchronized void finish(byte kind, int code) throws IOException {
        if (closed) {
            return;
        }
        frames.writeByte(kind);
        frames.writeInt(code);
        frames.flush();
        closed = true;
    }

    boolean closed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }
}
