package dev.stagefarm.cli.progress;

import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.StageReport;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The end of a build in figures: its time, steps run and cached, the bytes the workers fetched
 * for it (from the cache or other workers' artifacts) and each worker's busy time (its stages'
 * time on it, from the coordinator's report, so a worker's clock is compared only with itself;
 * two stages side by side in two slots count twice, as slot-seconds).
 */
public record BuildSummary(
        long totalNanos,
        int stepsRun,
        int stepsCached,
        long fetchedBytes,
        long queueMillis,
        Map<String, Busy> workers) {

    /** A worker's share: the stages it ran and their time on it. */
    public record Busy(int stages, Duration time) {}

    public static BuildSummary of(BuildTimeline timeline, BuildResult result, long now) {
        Map<String, Busy> workers = new TreeMap<>();
        long fetched = 0;
        long queued = 0;
        for (StageReport r : result.getStagesList()) {
            fetched += r.getFetchedBytes();
            queued += r.getQueueMillis();
            if (r.getCached() || r.getWorker().isEmpty()) {
                continue;
            }
            Duration d = Duration.ZERO;
            try {
                d = Duration.between(Instant.parse(r.getStartedAt()), Instant.parse(r.getFinishedAt()));
            } catch (DateTimeParseException e) {
                // a report without times counts as a stage without a duration
            }
            Busy b = workers.getOrDefault(r.getWorker(), new Busy(0, Duration.ZERO));
            workers.put(r.getWorker(), new Busy(b.stages() + 1, b.time().plus(d)));
        }
        return new BuildSummary(
                now - timeline.started(), timeline.stepsRun(), timeline.stepsCached(), fetched, queued, workers);
    }

    /** Two lines (one when no worker was needed), the last lines a build prints. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add(String.format(
                Locale.ROOT,
                "summary: %s total; steps: %d run, %d cached; workers fetched %s; queued %s",
                TtyRenderer.seconds(totalNanos),
                stepsRun,
                stepsCached,
                bytes(fetchedBytes),
                TtyRenderer.seconds(queueMillis * 1_000_000)));
        if (workers.isEmpty()) {
            out.add("summary: no worker needed: every stage came from the cache");
        } else {
            List<String> parts = new ArrayList<>();
            workers.forEach((w, b) -> parts.add(String.format(
                    Locale.ROOT,
                    "%s busy %s (%d stage%s)",
                    w,
                    TtyRenderer.seconds(b.time().toNanos()),
                    b.stages(),
                    b.stages() == 1 ? "" : "s")));
            out.add("summary: " + String.join(", ", parts));
        }
        return out;
    }

    static String bytes(long n) {
        if (n < 1000) {
            return n + " B";
        }
        if (n < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f kB", n / 1e3);
        }
        if (n < 1_000_000_000) {
            return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
    }
}
