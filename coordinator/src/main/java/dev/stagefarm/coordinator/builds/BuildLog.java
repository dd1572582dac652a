package dev.stagefarm.coordinator.builds;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.LogLine;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A build's step and log events as the coordinator keeps them, for {@code builds logs} and the
 * web view. Bounded three ways, so that a build printing without end ({@code RUN yes}) costs the
 * coordinator a known amount of memory: a step's output stops at {@link #STEP_BYTES} (the
 * sandbox's cap, BuildKit's 2 MiB, with BuildKit's line); a running build keeps its last
 * {@link #RUNNING_BYTES}, the oldest events going first; a finished build keeps its last
 * {@link #FINISHED_BYTES}, so the 200 finished builds kept hold at most 50 MiB.
 *
 * <p>Events carry a sequence number: a follower that fell behind the dropped ones is told how
 * many it missed.
 */
public final class BuildLog {

    public static final long STEP_BYTES = 2L * 1024 * 1024;
    public static final long RUNNING_BYTES = 4L * 1024 * 1024;
    public static final long FINISHED_BYTES = 256L * 1024;

    /** The sandbox's words for clipped output, so that users and tools recognise it. */
    static final String CLIPPED = "[output clipped, log limit 2MiB reached]";

    private record Entry(long seq, BuildEvent event, long bytes) {}

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final Map<Long, Long> stepBytes = new HashMap<>();
    private long bytes;
    private long nextSeq;
    private long limit = RUNNING_BYTES;
    private boolean ended;

    /** Keeps a step or log event; output past its step's cap is dropped. */
    synchronized void add(BuildEvent event) {
        if (ended) {
            return;
        }
        if (event.hasLog()) {
            LogLine line = event.getLog();
            long step = ((long) line.getStageIndex() << 32) | (line.getStepIndex() & 0xffffffffL);
            long before = stepBytes.getOrDefault(step, 0L);
            if (before > STEP_BYTES) {
                return;
            }
            long after = before + outputBytes(line);
            stepBytes.put(step, after);
            if (after > STEP_BYTES) {
                event = BuildEvent.newBuilder()
                        .setLog(line.toBuilder().clearData().setText(CLIPPED))
                        .build();
            }
        }
        append(event);
    }

    /** The build's last event (its result or error): followers stop after it. */
    synchronized void end(BuildEvent last) {
        if (ended) {
            return;
        }
        append(last);
        ended = true;
        limit = FINISHED_BYTES;
        trim();
        notifyAll();
    }

    private void append(BuildEvent event) {
        long size = eventBytes(event);
        entries.addLast(new Entry(nextSeq++, event, size));
        bytes += size;
        trim();
        notifyAll();
    }

    private void trim() {
        while (bytes > limit && entries.size() > 1) {
            bytes -= entries.removeFirst().bytes();
        }
    }

    /** What a reader gets: events from its cursor on, how many it missed, and where to go on. */
    public record Batch(List<BuildEvent> events, long dropped, long next, boolean ended) {}

    /**
     * The events from {@code cursor} on; waits up to {@code wait} for one when there is none and
     * the build still runs.
     */
    public synchronized Batch read(long cursor, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!ended && nextSeq <= cursor) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        long first = entries.isEmpty() ? nextSeq : entries.peekFirst().seq();
        long dropped = Math.max(0, first - cursor);
        List<BuildEvent> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.seq() >= cursor) {
                out.add(e.event());
            }
        }
        return new Batch(out, dropped, nextSeq, ended);
    }

    /** The last {@code count} output lines (for the web view), oldest first. */
    public synchronized List<BuildEvent> tail(int count) {
        List<BuildEvent> out = new ArrayList<>();
        var it = entries.descendingIterator();
        while (it.hasNext() && out.size() < count) {
            out.add(it.next().event());
        }
        return out.reversed();
    }

    synchronized long bytes() {
        return bytes;
    }

    private static long eventBytes(BuildEvent e) {
        // the text a reader sees, plus what a small message costs beyond it
        return switch (e.getKindCase()) {
            case LOG -> outputBytes(e.getLog()) + 48;
            case STEP ->
                utf8Length(e.getStep().getDescription())
                        + utf8Length(e.getStep().getWorker())
                        + 64;
            default -> e.getSerializedSize() + 48L;
        };
    }

    /** A chunk's bytes as the step wrote them, or a whole line with its newline. */
    private static long outputBytes(LogLine line) {
        return line.getData().isEmpty()
                ? utf8Length(line.getText()) + 1
                : line.getData().size();
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
        }
        return n;
    }
}
