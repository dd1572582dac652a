package dev.stagefarm.bench.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulation's smoke, run by CI: the real scheduler on a simulated clock, with the costs
 * recorded from real builds ({@code recorded-steps.tsv}) and with graphs made here. The full
 * sweep ({@code bench/sim/run}) is not a test.
 */
class SimulationTest {

    private static final long SECOND = 1_000_000_000L;
    private static final double FETCH = 100e6; // bytes per second between workers

    private static Recorded recorded() throws IOException {
        return Recorded.load(Recorded.DEFAULT);
    }

    /** The wide-graph benchmark's shape: 8 independent stages and a final one copying from all 8. */
    private static Graph wide(long stageMillis, long outBytes) {
        List<Stage> stages = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            stages.add(new Stage(i, "s" + i, Set.of(), stageMillis, outBytes));
        }
        stages.add(new Stage(8, "final", Set.of(0, 1, 2, 3, 4, 5, 6, 7), 100, 0));
        return new Graph("wide", stages);
    }

    /** One build of {@code stages} stages in a chain of one, each taking {@code millis}. */
    private static Graph independent(int stages, long millis) {
        return new Graph(
                "flat",
                IntStream.range(0, stages)
                        .mapToObj(i -> new Stage(i, "s" + i, Set.of(), millis, 0))
                        .toList());
    }

    @Test
    void aWideGraphOnEnoughSlotsFinishesWithinFivePercentOfItsCriticalPath() {
        Graph graph = wide(2_000, 1_000_000);
        SimResult r = new Simulation(4, 2, FETCH).run(List.of(BuildSpec.unique("b", "team", graph, 0)));

        // 8 slots run the 8 stages side by side; the final stage fetches what 7 other workers made
        assertThat(r.makespanNanos()).isLessThanOrEqualTo(Math.round(graph.criticalPathMillis() * 1e6 * 1.05));
        assertThat(r.jobs().values().stream().filter(j -> j.stage() < 8).map(SimResult.Job::waitNanos))
                .allMatch(w -> w == 0);
    }

    @Test
    void theRecordedMonorepoGraphOn64WorkersNeverQueuesAndGainsFromLocality() throws IOException {
        Recorded data = recorded();
        Graph graph = data.graph("graph32");
        SimResult r =
                new Simulation(64, 2, data.fetchBytesPerSecond()).run(List.of(BuildSpec.unique("b", "team", graph, 0)));

        assertThat(r.jobs().values()).allMatch(j -> j.waitNanos() == 0);
        // no later than its critical path with every input fetched, and sooner: some inputs are local
        assertThat(r.makespanNanos()).isLessThan(graph.criticalPathMillis(data.fetchBytesPerSecond()) * 1_000_000);
        assertThat(r.makespanNanos()).isGreaterThanOrEqualTo(graph.criticalPathMillis() * 1_000_000);
        long allInputs = graph.stages().stream()
                .flatMap(s -> s.deps().stream())
                .mapToLong(d -> graph.stage(d).outBytes())
                .sum();
        assertThat(r.fetchedBytes()).isLessThan(allInputs);
    }

    @Test
    void aTeamWithNothingRunningTakesTheFirstSlotThatFrees() {
        // the fairness benchmark: team A queues 10 builds of 3 × 3 s, then team B one build of 1 s
        List<BuildSpec> builds = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            builds.add(BuildSpec.unique("a" + i, "team-a", independent(3, 3_000), i * 1_000L));
        }
        builds.add(BuildSpec.unique("b", "team-b", independent(1, 1_000), SECOND / 2));
        SimResult r = new Simulation(2, 1, FETCH).run(builds);

        SimResult.Job b = r.jobsOf("b").getFirst();
        // both slots freed at 3 s; B waited only for the earliest running job's remaining 2.5 s
        assertThat(b.startNanos()).isEqualTo(3 * SECOND);
        assertThat(b.waitNanos()).isEqualTo(5 * SECOND / 2);
        // and team A's 30 jobs, with B's one, kept both slots busy: nothing idled
        assertThat(r.makespanNanos()).isEqualTo(46 * SECOND);
    }

    @Test
    void everyJobOfAHundredBuildsIsPlacedOnceAndStartsAfterWhatItTakesFrom() throws IOException {
        Graph graph = recorded().graph("graph32");
        List<BuildSpec> builds = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            builds.add(BuildSpec.unique("b" + i, "team-" + (i % 4), graph, i * 1_000_000L));
        }
        SimResult r = new Simulation(8, 2, recorded().fetchBytesPerSecond()).run(builds);

        assertThat(r.placements()).isEqualTo(100L * graph.size());
        assertThat(r.runsPerWork().values()).hasSize(100 * graph.size()).allMatch(n -> n == 1);
        assertThat(r.jobs()).hasSize(100 * graph.size());
        assertThat(r.builds()).hasSize(100);
        for (SimResult.Job job : r.jobs().values()) {
            for (int dep : graph.stage(job.stage()).deps()) {
                SimResult.Job before = r.jobs().get(job.build() + "#" + dep);
                assertThat(job.startNanos()).isGreaterThanOrEqualTo(before.endNanos());
            }
        }
    }

    @Test
    void twoBuildsOfTheSameSourcesInOneTeamRunEachStageOnceAndAnotherTeamsDoNot() throws IOException {
        Graph graph = recorded().graph("graph32");
        SimResult r = new Simulation(4, 2, recorded().fetchBytesPerSecond())
                .run(List.of(
                        new BuildSpec("first", "team-a", graph, "commit-1", 0),
                        new BuildSpec("second", "team-a", graph, "commit-1", 1_000_000),
                        new BuildSpec("other", "team-b", graph, "commit-1", 2_000_000)));

        assertThat(r.placements()).isEqualTo(2L * graph.size());
        assertThat(r.builds()).containsOnlyKeys("first", "second", "other");
        assertThat(r.jobsOf("second")).hasSize(graph.size());
    }

    @Test
    void moreWorkersShortenManyBuildsAsTheLowerBoundSays() throws IOException {
        Recorded data = recorded();
        Graph graph = data.graph("graph32");
        Point four = Sweep.point(data, graph, 4, 25);
        Point sixteen = Sweep.point(data, graph, 16, 25);

        // four times the slots: at least 3 times faster, and each close to its bound
        assertThat(sixteen.makespanNanos() * 3.0).isLessThanOrEqualTo(four.makespanNanos());
        assertThat(four.ratioToLowerBound()).isLessThan(1.10);
        assertThat(sixteen.ratioToLowerBound()).isLessThan(1.40);
        assertThat(four.meanWaitNanos()).isGreaterThan(sixteen.meanWaitNanos());
    }

    @Test
    void theSchedulerPlacesTenThousandQueuedJobsOnAThousandWorkers() {
        Throughput.Round round = Throughput.round(1_000, 10_000);

        // every job placed once; a coordinator that places fewer than 2,000 jobs per CPU-second
        // (here: cold JIT, any load) would hold a big farm back. bench/sim/run measures it warm.
        assertThat(round.placed()).isEqualTo(10_000);
        assertThat(round.jobsPerCpuSecond()).isGreaterThan(2_000);
    }

    @Test
    void theRecordedDataHasBothGraphsWithTheirShapes() throws IOException {
        Recorded data = recorded();
        Graph goWeb = data.graph("go-web");
        Graph graph32 = data.graph("graph32");

        assertThat(goWeb.size()).isEqualTo(2);
        assertThat(goWeb.stage(1).deps()).containsExactly(0);
        assertThat(goWeb.stage(0).outBytes()).isPositive(); // the go binary the final stage copies
        assertThat(graph32.size()).isEqualTo(32);
        assertThat(graph32.criticalPaths(i -> 1)).containsEntry(0, 6L).containsEntry(31, 1L);
        assertThat(graph32.stages()).allMatch(s -> s.workMillis() > 0);
        assertThat(data.fetchBytesPerSecond()).isPositive();
    }

    @Test
    void aDamagedDataFileIsRefusedWithTheLineAndWhatToDo(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("recorded-steps.tsv");
        Files.writeString(file, "fetch\t1000\nstage\tg\t0\ta\t-\tten\t0\n");

        assertThatThrownBy(() -> Recorded.load(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("recorded-steps.tsv:2")
                .hasMessageContaining("re-record the file with bench/sim/record");
    }

    @Test
    void aGraphWhoseStageDependsOnALaterOneIsRefused() {
        assertThatThrownBy(() -> new Graph(
                        "bad", List.of(new Stage(0, "a", Set.of(1), 1, 0), new Stage(1, "b", Set.of(), 1, 0))))
                .hasMessageContaining("depends on a later stage");
    }

    @Test
    void criticalPathsComeFromTheCoordinatorsCriticalPaths() {
        Map<Integer, Long> chain = wide(1_000, 0).criticalPaths(i -> i == 8 ? 100 : 1_000);

        assertThat(chain).containsEntry(0, 1_100L).containsEntry(8, 100L);
    }

    /**
     * Two chains of three short stages and one long stage, then a final one, on 2 slots. A graph
     * never seen orders by steps, so the chains go first and the long stage waits; the next build
     * of the graph knows the long stage's time and starts it at once.
     */
    @Test
    void theNextBuildOfAGraphRunsItsLongestRecordedChainFirst() {
        Graph graph = new Graph(
                "chains",
                List.of(
                        new Stage(0, "x1", Set.of(), 200, 0),
                        new Stage(1, "x2", Set.of(0), 200, 0),
                        new Stage(2, "x3", Set.of(1), 200, 0),
                        new Stage(3, "y1", Set.of(), 200, 0),
                        new Stage(4, "y2", Set.of(3), 200, 0),
                        new Stage(5, "y3", Set.of(4), 200, 0),
                        new Stage(6, "long", Set.of(), 5_000, 0),
                        new Stage(7, "final", Set.of(2, 5, 6), 100, 0)));
        SimResult r = new Simulation(1, 2, FETCH)
                .run(List.of(
                        BuildSpec.unique("first", "team", graph, 0),
                        BuildSpec.unique("second", "team", graph, 60 * SECOND)));

        assertThat(r.jobs().get("first#6").startNanos())
                .as("unknown: the long stage waits")
                .isPositive();
        assertThat(r.jobs().get("second#6").startNanos())
                .as("recorded: the long stage starts with its build")
                .isEqualTo(60 * SECOND);
        assertThat(r.builds().get("second").endNanos() - 60 * SECOND).isEqualTo(graph.criticalPathMillis() * 1_000_000);
    }
}
