package dev.stagefarm.worker.exec;

import dev.stagefarm.common.output.OutputLines;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes a process's output on as it comes, keeping its last few lines for error messages. It
 * always drains the stream: a full pipe would block the process. Past {@code maxBytes} the sink
 * gets one line saying so (BuildKit's words) and nothing more, so that {@code RUN yes} cannot
 * flood the coordinator and the client.
 */
final class OutputPump implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(OutputPump.class);

    private final InputStream in;
    private final StepOutput sink;
    private final int tailSize;
    private final long maxBytes;
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private final OutputLines tailLines = new OutputLines();
    private boolean sinkFailed;
    private long delivered;
    private boolean clipped;

    /** @param maxBytes output passed on before clipping; 0 for no limit */
    OutputPump(InputStream in, StepOutput sink, int tailLines, long maxBytes) {
        this.in = in;
        this.sink = sink;
        this.tailSize = tailLines;
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
        byte[] buf = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) {
                synchronized (this) {
                    tailLines.write(0, 0, buf, 0, n).forEach(this::keep);
                }
                deliver(buf, n);
            }
        } catch (IOException e) {
            log.debug("process output closed: {}", e.toString());
        } finally {
            synchronized (this) {
                tailLines.endAll().forEach(this::keep);
            }
            call(sink::close);
        }
    }

    synchronized List<String> tail() {
        return List.copyOf(tail);
    }

    private void keep(OutputLines.Line line) {
        if (tail.size() == tailSize) {
            tail.removeFirst();
        }
        tail.addLast(line.text());
    }

    private void deliver(byte[] buf, int n) {
        if (clipped) {
            return;
        }
        int allowed = maxBytes > 0 ? (int) Math.min(n, maxBytes - delivered) : n;
        if (allowed > 0) {
            call(() -> sink.write(buf, 0, allowed));
            delivered += allowed;
        }
        if (allowed < n) {
            synchronized (this) {
                clipped = true;
            }
            call(() -> sink.note(clippedLine(maxBytes)));
        }
    }

    private void call(Runnable toSink) {
        if (sinkFailed) {
            return;
        }
        try {
            toSink.run();
        } catch (RuntimeException e) {
            sinkFailed = true; // keep draining; a stuck pipe would hang the build
            log.warn("output consumer failed; further output is only kept for the error tail", e);
        }
    }
}
