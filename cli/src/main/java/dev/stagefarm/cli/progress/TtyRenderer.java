package dev.stagefarm.cli.progress;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the tty display shows at one instant, as BuildKit's does: a header with the build's
 * time, one line per step (its timer, {@code CACHED}, the worker it runs on), the last lines
 * of output under each running step, the stages still waiting for a worker. Finished steps
 * take one line. Every line fits {@code width} columns; when the steps outgrow {@code height}
 * rows, the oldest finished ones scroll away first. Pure: the caller owns the clock.
 */
public final class TtyRenderer {

    private TtyRenderer() {}

    public static List<String> render(BuildTimeline t, long now, int width, int height, boolean finished) {
        List<BuildTimeline.Step> steps = t.steps();
        long done = steps.stream()
                .filter(s -> s.state() != BuildTimeline.State.RUNNING)
                .count();
        String header = String.format(
                Locale.ROOT,
                "[+] %s %s (%d/%d)",
                finished ? "Built" : "Building",
                seconds(now - t.started()),
                done,
                steps.size());
        List<String> finishedLines = new ArrayList<>();
        List<String> activeLines = new ArrayList<>();
        for (BuildTimeline.Step s : steps) {
            boolean running = s.state() == BuildTimeline.State.RUNNING;
            String line = stepLine(s, now, width);
            if (running || (s.state() == BuildTimeline.State.FAILED)) {
                activeLines.add(line);
                for (String out : s.tail()) {
                    activeLines.add(fit(" => => # " + out, width));
                }
            } else {
                finishedLines.add(line);
            }
        }
        if (!t.queueNote().isEmpty()) {
            activeLines.add(fit(" => " + t.queueNote(), width));
        }
        for (BuildTimeline.QueueWait q : t.queued()) {
            activeLines.add(columns(
                    " => [" + q.stageName() + "] waiting for a worker", "queued", seconds(now - q.start()), width));
        }
        // running steps stay in sight; the oldest finished steps give way first
        int room = Math.max(0, height - 1 - activeLines.size());
        List<String> out = new ArrayList<>();
        out.add(fit(header, width));
        int skip = Math.max(0, finishedLines.size() - room);
        out.addAll(finishedLines.subList(skip, finishedLines.size()));
        out.addAll(activeLines);
        return out.size() > Math.max(height, 1) ? out.subList(0, Math.max(height, 1)) : out;
    }

    private static String stepLine(BuildTimeline.Step s, long now, int width) {
        String prefix = switch (s.state()) {
            case CACHED -> " => CACHED ";
            case FAILED -> " => ERROR ";
            default -> " => ";
        };
        String timer =
                s.state() == BuildTimeline.State.CACHED ? "" : seconds((s.end() < 0 ? now : s.end()) - s.start());
        return columns(prefix + s.description(), s.worker(), timer, width);
    }

    /** Text on the left, worker and timer right-aligned; the text gives way when the line is too long. */
    static String columns(String left, String worker, String timer, int width) {
        left = clean(left);
        String right =
                (worker.isEmpty() ? "" : worker) + (timer.isEmpty() ? "" : (worker.isEmpty() ? "" : "  ") + timer);
        int usable = width - 1; // never the last column: a terminal may wrap there
        if (right.isEmpty()) {
            return fit(left, width);
        }
        int leftRoom = usable - right.length() - 1;
        if (leftRoom < 8) {
            return fit(left + " " + right, width);
        }
        String l = left.length() > leftRoom ? left.substring(0, leftRoom - 1) + "…" : left;
        return l + " ".repeat(usable - l.length() - right.length()) + right;
    }

    /** A build's output never moves the cursor or recolours the terminal: control characters go. */
    static String clean(String text) {
        return text.replace('\t', ' ').replaceAll("\\p{Cntrl}", "");
    }

    static String fit(String line, int width) {
        String clean = clean(line);
        int usable = Math.max(1, width - 1);
        return clean.length() > usable ? clean.substring(0, usable - 1) + "…" : clean;
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1fs", Math.max(0, nanos) / 1e9);
    }
}
