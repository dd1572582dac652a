package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Placement by what workers hold across builds, and the bounded wait for a better-placed worker, on a clock the test moves. */
class SchedulerLocalityTest {

    private static final long MIB = 1L << 20;
    private static final String GOLANG = "sha256:golang-base-layer";

    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final InstantSource clock = () -> now;
    private final Scheduler scheduler = new Scheduler(clock);

    private void tick(Duration d) {
        now = now.plus(d);
    }

    private static JobTicket job(String team, String id, JobInput... inputs) {
        return new JobTicket(
                id,
                team,
                id.substring(0, id.indexOf('-')),
                "job:" + id,
                Instant.EPOCH,
                1,
                w -> 0,
                Set.of(),
                List.of(inputs));
    }

    private Optional<String> placedOn(String jobId) {
        return scheduler.place().stream()
                .filter(p -> p.wireId().equals(jobId))
                .map(Scheduler.Placement::workerId)
                .findFirst();
    }

    /** w2 runs a job of team a and holds a 300 MiB base layer for a; w1 is free and holds nothing. */
    private void w2BusyHoldingTheGoBase() {
        scheduler.addWorker("w2#2", "w2", 1);
        scheduler.submit(job("a", "b0-0"));
        assertThat(placedOn("b0-0")).contains("w2#2");
        scheduler.holdings().held("w2#2", "a", GOLANG, 300 * MIB);
        scheduler.addWorker("w1#1", "w1", 1);
    }

    @Test
    void aLaterBuildGoesToTheWorkerThatHoldsItsBaseFromAnEarlierOne() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.addWorker("w2#2", "w2", 1);
        // a first build of another Dockerfile pulled the Go base on w2 (both its blob and its snapshot)
        scheduler.holdings().held("w2#2", "a", GOLANG, 290 * MIB);
        scheduler.holdings().held("w2#2", "a", "snapshot:layer:sha256:golang-diff", 800 * MIB);

        scheduler.submit(job("a", "b2-0", JobInput.of(300 * MIB, GOLANG, "snapshot:layer:sha256:golang-diff")));
        assertThat(placedOn("b2-0"))
                .as("the worker holding the base, not w1 first by name")
                .contains("w2#2");
        assertThat(scheduler
                        .holdings()
                        .bytesByWorker(
                                "a", List.of(JobInput.of(300 * MIB, GOLANG, "snapshot:layer:sha256:golang-diff"))))
                .as("an input held under two keys counts once, at the size the job names")
                .containsExactly(java.util.Map.entry("w2#2", 300 * MIB));
    }

    @Test
    void whatAWorkerHoldsForOneTeamDoesNotAttractAnotherTeamsJob() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.addWorker("w2#2", "w2", 1);
        scheduler.holdings().held("w2#2", "a", GOLANG, 300 * MIB);

        scheduler.submit(job("b", "b1-0", JobInput.of(300 * MIB, GOLANG)));
        assertThat(placedOn("b1-0"))
                .as("team b gets nothing from team a's content")
                .contains("w1#1");
        assertThat(scheduler.holdings().bytesByWorker("b", List.of(JobInput.of(0, GOLANG))))
                .isEmpty();
    }

    @Test
    void anEvictedInputNoLongerAttractsAJob() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.addWorker("w2#2", "w2", 1);
        scheduler.holdings().held("w2#2", "a", GOLANG, 300 * MIB);
        scheduler.holdings().evicted("w2#2", "a", GOLANG);

        scheduler.submit(job("a", "b1-0", JobInput.of(300 * MIB, GOLANG)));
        assertThat(placedOn("b1-0")).contains("w1#1");
        assertThat(scheduler.holdings().size()).isZero();
    }

    @Test
    void aWorkerThatGoesAwayTakesItsEntriesWithItEvenWhenItComesBackUnderItsName() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.addWorker("w2#2", "w2", 1);
        scheduler.holdings().held("w2#2", "a", GOLANG, 300 * MIB);
        scheduler.removeWorker("w2#2");
        assertThat(scheduler.holdings().size("w2#2")).isZero();

        scheduler.addWorker("w2#3", "w2", 1); // a new disk, perhaps: it reports afresh
        scheduler.submit(job("a", "b1-0", JobInput.of(300 * MIB, GOLANG)));
        assertThat(placedOn("b1-0")).contains("w1#1");
    }

    @Test
    void aJobWaitsForTheBusyWorkerHoldingItsBaseUpToTheLimitThenGoesElsewhere() {
        w2BusyHoldingTheGoBase();
        scheduler.submit(job("a", "b1-0", JobInput.of(300 * MIB, GOLANG)));

        assertThat(scheduler.place())
                .as("w1 is free, but w2 would spare 300 MiB (3 s at 100 MiB/s)")
                .isEmpty();
        assertThat(scheduler.waitingForLocality("b1-0")).isTrue();
        assertThat(scheduler.localityWaitsBegun())
                .as("told once, with the worker and the bytes it would spare")
                .containsExactly(
                        new Scheduler.LocalityWait("b1-0", "w2", 300 * MIB, Locality.DEFAULT_MAX_WAIT, Set.of("b1-0")));
        assertThat(scheduler.nextLocalityDeadline()).contains(now.plus(Locality.DEFAULT_MAX_WAIT));

        tick(Duration.ofMillis(2999));
        assertThat(scheduler.localityWaitsBegun()).as("a wait begins once").isEmpty();
        assertThat(scheduler.place())
                .as("still within spark.locality.wait's 3 s")
                .isEmpty();
        tick(Duration.ofMillis(1));
        assertThat(placedOn("b1-0")).as("waited long enough: any free worker").contains("w1#1");
        assertThat(scheduler.nextLocalityDeadline()).isEmpty();
    }

    @Test
    void aJobThatWaitsGetsTheBetterWorkerWhenItFreesInTime() {
        w2BusyHoldingTheGoBase();
        scheduler.submit(job("a", "b1-0", JobInput.of(300 * MIB, GOLANG)));
        assertThat(scheduler.place()).isEmpty();

        tick(Duration.ofSeconds(1));
        assertThat(scheduler.finish("b0-0", "w2#2")).isPresent();
        assertThat(placedOn("b1-0")).contains("w2#2");
    }

    @Test
    void theWaitIsNoLongerThanTheTransferItSaves() {
        w2BusyHoldingTheGoBase();
        scheduler.holdings().held("w2#2", "a", "sha256:small-base", 150 * MIB);
        scheduler.submit(job("a", "b1-0", JobInput.of(150 * MIB, "sha256:small-base")));

        assertThat(scheduler.place()).isEmpty();
        assertThat(scheduler.nextLocalityDeadline()).contains(now.plus(Duration.ofMillis(1500)));
        tick(Duration.ofMillis(1500));
        assertThat(placedOn("b1-0")).contains("w1#1");
    }

    @Test
    void aSmallSavingIsNotWorthAWait() {
        w2BusyHoldingTheGoBase();
        scheduler.holdings().held("w2#2", "a", "sha256:busybox", 1 * MIB);
        scheduler.submit(job("a", "b1-0", JobInput.of(1 * MIB, "sha256:busybox")));

        assertThat(placedOn("b1-0"))
                .as("1 MiB fetches in 10 ms: below the 1 s minimum")
                .contains("w1#1");
        assertThat(scheduler.nextLocalityDeadline()).isEmpty();
    }

    @Test
    void noWaitWhenNoBusyWorkerHoldsMore() {
        w2BusyHoldingTheGoBase();
        scheduler.submit(job("a", "b1-0", JobInput.of(300 * MIB, "sha256:held-nowhere")));
        assertThat(placedOn("b1-0")).contains("w1#1");
    }

    @Test
    void aTeamWithNothingRunningNeverWaits() {
        w2BusyHoldingTheGoBase();
        scheduler.holdings().held("w2#2", "b", GOLANG, 300 * MIB);
        scheduler.submit(job("b", "b1-0", JobInput.of(300 * MIB, GOLANG)));

        assertThat(placedOn("b1-0"))
                .as("team b runs nothing: it takes the free slot at once")
                .contains("w1#1");
    }

    @Test
    void aWaitingJobLetsTheJobsBehindItTakeTheFreeSlot() {
        w2BusyHoldingTheGoBase();
        scheduler.submit(job("a", "b1-0", JobInput.of(300 * MIB, GOLANG)));
        scheduler.submit(job("a", "b2-0"));

        assertThat(scheduler.place())
                .extracting(Scheduler.Placement::wireId, Scheduler.Placement::workerId)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("b2-0", "w1#1"));
        assertThat(scheduler.isQueued("b1-0")).isTrue();
    }

    @Test
    void turnedOffAJobNeverWaits() {
        Scheduler noWait =
                new Scheduler(clock, t -> 1.0, Locality.DEFAULTS.withWait(Duration.ZERO, Locality.DEFAULT_MIN_SAVING));
        noWait.addWorker("w2#2", "w2", 1);
        noWait.submit(job("a", "b0-0"));
        assertThat(noWait.place()).hasSize(1);
        noWait.holdings().held("w2#2", "a", GOLANG, 300 * MIB);
        noWait.addWorker("w1#1", "w1", 1);
        noWait.submit(job("a", "b1-0", JobInput.of(300 * MIB, GOLANG)));
        assertThat(noWait.place()).extracting(Scheduler.Placement::workerId).containsExactly("w1#1");
    }

    @Test
    void theIndexKeepsItsBoundsForgettingTheOldestFirst() {
        LocalityIndex index = new LocalityIndex(3, 5);
        for (int i = 0; i < 4; i++) {
            index.held("w1", "a", "k" + i, 10);
        }
        assertThat(index.size("w1")).as("at most 3 per worker").isEqualTo(3);
        assertThat(index.holds("w1", "a", "k0")).as("the oldest went first").isFalse();
        assertThat(index.holds("w1", "a", "k3")).isTrue();

        index.held("w1", "a", "k1", 10); // reported again: now the newest of w1's
        index.held("w1", "a", "k4", 10);
        assertThat(index.holds("w1", "a", "k1")).isTrue();
        assertThat(index.holds("w1", "a", "k2")).isFalse();

        index.held("w2", "b", "x0", 10);
        index.held("w2", "b", "x1", 10);
        index.held("w2", "b", "x2", 10);
        assertThat(index.size()).as("at most 5 in all").isEqualTo(5);
        assertThat(index.holds("w1", "a", "k3"))
                .as("the oldest of all went first")
                .isFalse();
        assertThat(index.holds("w2", "b", "x2")).isTrue();

        index.forgetWorker("w2");
        assertThat(index.size()).isEqualTo(2);
        assertThat(index.bytesByWorker("b", List.of(JobInput.of(0, "x2")))).isEmpty();
    }
}
