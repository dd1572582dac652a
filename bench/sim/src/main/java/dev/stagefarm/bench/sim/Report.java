package dev.stagefarm.bench.sim;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/** {@code bench/results/sim.md}: the sweep's table, written by {@link Sweep}. */
final class Report {

    private Report() {}

    static String markdown(
            Recorded recorded, Path data, List<Point> points, Throughput.Round rate, Instant when, String load) {
        StringBuilder md = new StringBuilder();
        md.append("# Scale-out, simulated (`bench/sim/run`)\n\n");
        md.append("Written by `bench/sim/run` on ")
                .append(when.truncatedTo(ChronoUnit.SECONDS))
                .append(" (")
                .append(load)
                .append(", ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(" cores) from `")
                .append(data.getFileName())
                .append("` (see [bench/README.md](../README.md#scale-out-simulated-benchsim)). ")
                .append("Each point: N builds of one graph submitted together (1 ms apart, ")
                .append(Sweep.TEAMS)
                .append(" teams in turn) to W workers of ")
                .append(Sweep.SLOTS)
                .append(" slots, the coordinator's real `Scheduler` on a simulated clock. ")
                .append("*bound* = max(critical path, all work / all slots); *ratio* = makespan / bound; ")
                .append("*build / cp* = a build's mean time over its critical path; *wait* = mean time a job ")
                .append("queued; *CPU* = the coordinator thread's CPU time in `submit`, `place` and `finish`, per ")
                .append("placed job (the median of 3 runs of the point). Fetch rate between workers: ")
                .append(String.format(Locale.ROOT, "%.1f MB/s", recorded.fetchBytesPerSecond() / 1e6))
                .append(".\n\n");
        md.append(String.format(
                Locale.ROOT,
                "**Placement rate**: %,.0f jobs/s (wall; %,.0f per CPU-second) with %,d workers × 2 slots and "
                        + "%,d jobs queued at once (median of 5 rounds after 2 warm-up rounds).%n%n",
                rate.jobsPerWallSecond(),
                rate.jobsPerCpuSecond(),
                rate.workers(),
                rate.jobs()));
        for (String graph : points.stream().map(Point::graph).distinct().toList()) {
            Graph g = recorded.graph(graph);
            md.append(String.format(
                    Locale.ROOT,
                    "## %s (%d stages, critical path %.1f s, all work %.1f s)%n%n",
                    graph,
                    g.size(),
                    g.criticalPathMillis() / 1e3,
                    g.totalWorkMillis() / 1e3));
            md.append(
                    "| builds | workers | makespan (s) | bound (s) | ratio | build / cp | wait (s) | CPU (µs/job) |\n");
            md.append("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Point p : points) {
                if (!p.graph().equals(graph)) {
                    continue;
                }
                md.append(String.format(
                        Locale.ROOT,
                        "| %d | %d | %.1f | %.1f | %.3f | %.2f | %.2f | %.1f |%n",
                        p.builds(),
                        p.workers(),
                        p.makespanNanos() / 1e9,
                        p.lowerBoundNanos() / 1e9,
                        p.ratioToLowerBound(),
                        p.meanBuildToCriticalPath(),
                        p.meanWaitNanos() / 1e9,
                        p.cpuNanosPerPlacement() / 1e3));
            }
            md.append('\n');
        }
        md.append("![the sweep: ratio to the lower bound, mean queue wait and coordinator CPU per job against workers]")
                .append("(sim-scaleout.png)\n");
        return md.toString();
    }
}
