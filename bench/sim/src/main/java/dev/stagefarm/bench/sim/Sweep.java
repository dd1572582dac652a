package dev.stagefarm.bench.sim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench/sim/run}: the scale-out sweep. For each graph, 1 → 64 workers and 1 → 500 builds
 * submitted together (a millisecond apart, from 4 teams), the simulated farm's makespan against
 * the lower bound, the mean queue wait and the coordinator's CPU per placed job; then the
 * scheduler's placement rate with 1,000 workers and 10,000 queued jobs. Prints the ratios, writes
 * {@code sim.md} and {@code sim-scaleout.png} into the results directory.
 */
public final class Sweep {

    static final List<Integer> WORKERS = List.of(1, 2, 4, 8, 16, 32, 64);
    static final List<Integer> BUILDS = List.of(1, 5, 25, 100, 500);
    static final int SLOTS = 2;
    static final int TEAMS = 4;

    private Sweep() {}

    public static void main(String[] args) throws IOException {
        Path data = args.length > 0 ? Path.of(args[0]) : Recorded.DEFAULT;
        Path results = args.length > 1 ? Path.of(args[1]) : Path.of("results");
        Files.createDirectories(results);
        Recorded recorded = Recorded.load(data);
        String loadBefore = loadAverage();
        List<String> graphs = List.of("graph32", "go-web");
        List<Point> points = new ArrayList<>();
        // unmeasured: the JIT compiles the scheduler before the CPU times count
        for (int round = 0; round < 3; round++) {
            for (String name : graphs) {
                point(recorded, recorded.graph(name), 16, 100);
            }
        }
        System.out.printf(
                Locale.ROOT,
                "%-8s %7s %6s %10s %10s %7s %11s %11s %9s%n",
                "graph",
                "workers",
                "builds",
                "makespan_s",
                "bound_s",
                "ratio",
                "build/cp",
                "mean_wait_s",
                "cpu_us/job");
        for (String name : graphs) {
            Graph graph = recorded.graph(name);
            for (int builds : BUILDS) {
                for (int workers : WORKERS) {
                    Point p = median(recorded, graph, workers, builds, 3);
                    points.add(p);
                    System.out.printf(
                            Locale.ROOT,
                            "%-8s %7d %6d %10.1f %10.1f %7.3f %11.2f %11.2f %9.2f%n",
                            name,
                            workers,
                            builds,
                            p.makespanNanos() / 1e9,
                            p.lowerBoundNanos() / 1e9,
                            p.ratioToLowerBound(),
                            p.meanBuildToCriticalPath(),
                            p.meanWaitNanos() / 1e9,
                            p.cpuNanosPerPlacement() / 1e3);
                }
            }
        }
        Throughput.Round rate = Throughput.measure(1_000, 10_000, 5);
        System.out.printf(
                Locale.ROOT,
                "placement rate, 1,000 workers x 2 slots, 10,000 queued jobs: %,.0f jobs/s wall, %,.0f jobs/s CPU%n",
                rate.jobsPerWallSecond(),
                rate.jobsPerCpuSecond());
        Plot.write(results.resolve("sim-scaleout.png"), graphs, BUILDS, points);
        String load = "load average " + loadBefore + " at the start, " + loadAverage() + " at the end";
        Files.writeString(
                results.resolve("sim.md"), Report.markdown(recorded, data, points, rate, Instant.now(), load));
        System.out.println("wrote " + results.resolve("sim.md") + " and " + results.resolve("sim-scaleout.png"));
    }

    /** The 1, 5 and 15 minute load averages: CPU times on a loaded machine vary. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** One point: {@code builds} unique builds of {@code graph}, from {@link #TEAMS} teams, a millisecond apart. */
    static Point point(Recorded recorded, Graph graph, int workers, int builds) {
        List<BuildSpec> specs = new ArrayList<>();
        for (int i = 0; i < builds; i++) {
            specs.add(BuildSpec.unique("b" + i, "team-" + (i % TEAMS), graph, i * 1_000_000L));
        }
        return Point.of(
                graph,
                workers,
                SLOTS,
                builds,
                new Simulation(workers, SLOTS, recorded.fetchBytesPerSecond()).run(specs));
    }

    /**
     * The point run {@code runs} times: the simulation gives the same schedule each time, the CPU
     * time varies with the machine's load; the run with the median CPU time per placed job counts.
     */
    static Point median(Recorded recorded, Graph graph, int workers, int builds, int runs) {
        List<Point> all = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            all.add(point(recorded, graph, workers, builds));
        }
        all.sort(Comparator.comparingDouble(Point::cpuNanosPerPlacement));
        return all.get(runs / 2);
    }
}
