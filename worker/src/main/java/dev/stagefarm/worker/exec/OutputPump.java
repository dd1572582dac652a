package dev.stagefarm.worker.exec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits a process's output into lines for a callback, keeping the last few for error messages.
 * It always drains the stream: a full pipe would block the process. Past {@code maxBytes} the
 * callback gets one line saying so (BuildKit's words) and nothing more, so that {@code RUN yes}
 * cannot flood the coordinator and the client.
 */
final class OutputPump implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(OutputPump.class);
    /** A line longer than this (a progress bar without newlines) is delivered in pieces. */
    static final int MAX_LINE_BYTES = 16 * 1024;

    private final InputStream in;
    private final Consumer<String> sink;
    private final int tailLines;
    private final long maxBytes;
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private boolean sinkFailed;
    private long delivered;
    private boolean clipped;

    OutputPump(InputStream in, Consumer<String> sink, int tailLines) {
        this(in, sink, tailLines, 0);
    }

    /** @param maxBytes output passed on before clipping, newlines counted; 0 for no limit */
    OutputPump(InputStream in, Consumer<String> sink, int tailLines, long maxBytes) {
        this.in = in;
        this.sink = sink;
        this.tailLines = tailLines;
        this.maxBytes = maxBytes;
    }

    /** The line that replaces the rest of a step's output: BuildKit's, so users and tools know it. */
    static String clippedLine(long maxBytes) {
        String limit = maxBytes % (1024 * 1024) == 0
                ? maxBytes / (1024 * 1024) + "MiB"
                : maxBytes % 1024 == 0 ? maxBytes / 1024 + "KiB" : maxBytes + "B";
        return "[output clipped, log limit " + limit + " reached]";
    }

    synchronized boolean clipped() {
        return clipped;
    }

    @Override
    public void run() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        emit(line);
                    } else {
                        line.write(buf[i]);
                        if (line.size() >= MAX_LINE_BYTES) {
                            emit(line);
                        }
                    }
                }
            }
        } catch (IOException e) {
            log.debug("process output closed: {}", e.toString());
        }
        if (line.size() > 0) {
            emit(line);
        }
    }

    synchronized List<String> tail() {
        return List.copyOf(tail);
    }

    private void emit(ByteArrayOutputStream bytes) {
        String text = bytes.toString(StandardCharsets.UTF_8);
        int size = bytes.size();
        bytes.reset();
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        synchronized (this) {
            if (tail.size() == tailLines) {
                tail.removeFirst();
            }
            tail.addLast(text);
        }
        if (sinkFailed || clipped) {
            return;
        }
        delivered += size + 1;
        if (maxBytes > 0 && delivered > maxBytes) {
            synchronized (this) {
                clipped = true;
            }
            text = clippedLine(maxBytes);
        }
        try {
            sink.accept(text);
        } catch (RuntimeException e) {
            sinkFailed = true; // keep draining; a stuck pipe would hang the build
            log.warn("output consumer failed; further output is only kept for the error tail", e);
        }
    }
}
