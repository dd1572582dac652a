package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.Job;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

/** The queue's order and fairness, on a clock the test moves. */
class SchedulerTest {

    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final InstantSource clock = () -> now;
    private final Scheduler scheduler = new Scheduler(clock);

    private void tick(Duration d) {
        now = now.plus(d);
    }

    private JobTicket job(String team, String build, int stage, int criticalPath, Instant submitted) {
        String id = build + "-" + stage;
        return new JobTicket(id, team, build, "job:" + id, submitted, criticalPath, w -> 0);
    }

    private List<String> placed() {
        return scheduler.place().stream().map(Scheduler.Placement::wireId).toList();
    }

    private void finish(String jobId) {
        for (String worker : List.of("w1#1", "w2#2", "w3#3")) {
            if (scheduler.runningOn(worker).contains(jobId)) {
                assertThat(scheduler.finish(jobId, worker)).isPresent();
                return;
            }
        }
        throw new AssertionError(jobId + " runs nowhere");
    }

    @Test
    void aJobNeedingAnEntitlementGoesOnlyWhereItIsGrantedAndBlocksNoOneBehindIt() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.addWorker("w2#2", "w2", 1, Set.of("network.host"));
        scheduler.submit(new JobTicket("b1-0", "a", "b1", "k0", now, 2, w -> 0, Set.of("network.host")));
        scheduler.submit(new JobTicket("b1-1", "a", "b1", "k1", now, 1, w -> 0, Set.of("network.host")));
        scheduler.submit(job("a", "b1", 2, 1, now));

        List<Scheduler.Placement> first = scheduler.place();
        assertThat(first)
                .extracting(Scheduler.Placement::wireId, Scheduler.Placement::workerId)
                .containsExactlyInAnyOrder(Tuple.tuple("b1-0", "w2#2"), Tuple.tuple("b1-2", "w1#1"));
        assertThat(scheduler.isQueued("b1-1"))
                .as("w1 is free but does not grant network.host")
                .isTrue();

        finish("b1-2");
        assertThat(placed()).as("w1 still may not take it").isEmpty();
        finish("b1-0");
        assertThat(scheduler.place()).extracting(Scheduler.Placement::workerId).containsExactly("w2#2");
    }

    @Test
    void aJobWaitsInTheQueueUntilASlotIsFree() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.submit(job("a", "b1", 0, 1, now));
        scheduler.submit(job("a", "b1", 1, 1, now));

        assertThat(placed()).containsExactly("b1-0");
        assertThat(placed()).as("no backlog on the worker").isEmpty();
        assertThat(scheduler.queued("a")).isEqualTo(1);

        tick(Duration.ofSeconds(3));
        finish("b1-0");
        List<Scheduler.Placement> next = scheduler.place();
        assertThat(next).extracting(Scheduler.Placement::wireId).containsExactly("b1-1");
        assertThat(next.getFirst().waited()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void aWorkerTakesAsManyJobsAsItHasSlots() {
        scheduler.addWorker("w1#1", "w1", 3);
        for (int i = 0; i < 5; i++) {
            scheduler.submit(job("a", "b1", i, 1, now));
        }
        assertThat(placed()).hasSize(3);
        assertThat(scheduler.slots("free")).isZero();
        assertThat(scheduler.slots("busy")).isEqualTo(3);
    }

    @Test
    void withinATeamEarlierBuildsGoFirstAndWithinABuildTheLongestChain() {
        Instant early = now;
        tick(Duration.ofSeconds(1));
        // the later build is queued first: submit time of the build decides, not arrival of the job
        scheduler.submit(job("a", "late", 0, 5, now));
        scheduler.submit(job("a", "early", 0, 1, early));
        scheduler.submit(job("a", "early", 1, 3, early));
        scheduler.submit(job("a", "early", 2, 2, early));
        scheduler.addWorker("w1#1", "w1", 1);

        List<String> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            List<String> p = placed();
            assertThat(p).hasSize(1);
            order.add(p.getFirst());
            finish(p.getFirst());
        }
        assertThat(order).containsExactly("early-1", "early-2", "early-0", "late-0");
    }

    @Test
    void teamsWithQueuedWorkTakeSlotsInTurn() {
        scheduler.addWorker("w1#1", "w1", 1);
        for (int i = 0; i < 3; i++) {
            scheduler.submit(job("a", "a1", i, 1, now));
        }
        tick(Duration.ofSeconds(1));
        for (int i = 0; i < 3; i++) {
            scheduler.submit(job("b", "b1", i, 1, now));
        }
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String next = placed().getFirst();
            order.add(next);
            finish(next);
        }
        assertThat(order).containsExactly("a1-0", "b1-0", "a1-1", "b1-1", "a1-2", "b1-2");
    }

    /**
     * Issue 12's fairness scenario: team A submits 10 builds of 3 jobs at once, then team B one
     * job; 2 workers with 1 slot each. B's job starts at the first slot that frees, ahead of
     * A's 28 queued jobs.
     */
    @Test
    void aTeamWithNothingRunningTakesTheNextSlotThatFrees() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.addWorker("w2#2", "w2", 1);
        for (int b = 0; b < 10; b++) {
            for (int s = 0; s < 3; s++) {
                scheduler.submit(job("a", "a" + b, s, 1, now));
            }
        }
        List<Scheduler.Placement> first = scheduler.place();
        assertThat(first).extracting(Scheduler.Placement::team).containsExactly("a", "a");

        tick(Duration.ofMillis(500));
        scheduler.submit(job("b", "b0", 0, 1, now));
        assertThat(placed()).as("every slot busy").isEmpty();

        tick(Duration.ofMillis(2500));
        finish(first.getFirst().wireId());
        List<Scheduler.Placement> next = scheduler.place();
        assertThat(next).extracting(Scheduler.Placement::wireId).containsExactly("b0-0");
        assertThat(next.getFirst().waited()).isEqualTo(Duration.ofMillis(2500));
        assertThat(scheduler.queued("a")).isEqualTo(28);
    }

    @Test
    void aHeavierTeamGetsMoreSlots() {
        Scheduler weighted = new Scheduler(clock, team -> team.equals("a") ? 2.0 : 1.0);
        weighted.addWorker("w1#1", "w1", 3);
        for (int i = 0; i < 5; i++) {
            weighted.submit(job("a", "a1", i, 1, now));
            weighted.submit(job("b", "b1", i, 1, now));
        }
        List<Scheduler.Placement> placed = weighted.place();
        assertThat(placed).extracting(Scheduler.Placement::team).containsExactlyInAnyOrder("a", "a", "b");
    }

    /** Weight 2 against 1 on 6 slots: 4 and 2, and still 4 and 2 after every job that ends. */
    @Test
    void weightsHoldWhileJobsEndAndNewOnesStart() {
        Scheduler weighted = new Scheduler(clock, team -> team.equals("a") ? 2.0 : 1.0);
        weighted.addWorker("w1#1", "w1", 6);
        for (int i = 0; i < 40; i++) {
            weighted.submit(job("a", "a1", i, 1, now));
            weighted.submit(job("b", "b1", i, 1, now));
        }
        List<String> running = new ArrayList<>(
                weighted.place().stream().map(Scheduler.Placement::wireId).toList());
        for (int round = 0; round < 30; round++) {
            assertThat(weighted.running("a")).as("round %d", round).isEqualTo(4);
            assertThat(weighted.running("b")).as("round %d", round).isEqualTo(2);
            tick(Duration.ofSeconds(1));
            String oldest = running.removeFirst();
            assertThat(weighted.finish(oldest, "w1#1")).isPresent();
            running.addAll(
                    weighted.place().stream().map(Scheduler.Placement::wireId).toList());
        }
    }

    @Test
    void unevenSlotsGoToTheHeavierTeamAndALightTeamWithNothingRunningIsNeverStarved() {
        Map<String, Double> weights = new HashMap<>(Map.of("a", 10.0, "b", 1.0));
        Scheduler weighted = new Scheduler(clock, weights::get);
        weighted.addWorker("w1#1", "w1", 4);
        for (int i = 0; i < 10; i++) {
            weighted.submit(job("a", "a1", i, 1, now));
        }
        assertThat(weighted.place()).hasSize(4);
        tick(Duration.ofSeconds(1));
        weighted.submit(job("b", "b1", 0, 1, now));
        weighted.submit(job("b", "b1", 1, 1, now));
        assertThat(weighted.finish("a1-0", "w1#1")).isPresent();
        assertThat(weighted.place())
                .as("b, with nothing running, takes the slot that frees, whatever a's weight")
                .extracting(Scheduler.Placement::team)
                .containsExactly("b");

        // 2:1 on 4 slots cannot split evenly: the heavier team gets the odd slot (3 and 1, not 2 and 2)
        Scheduler uneven = new Scheduler(clock, team -> team.equals("a") ? 2.0 : 1.0);
        uneven.addWorker("w1#1", "w1", 4);
        for (int i = 0; i < 5; i++) {
            uneven.submit(job("b", "b2", i, 1, now));
            uneven.submit(job("a", "a2", i, 1, now));
        }
        assertThat(uneven.place()).extracting(Scheduler.Placement::team).containsExactlyInAnyOrder("a", "a", "a", "b");

        // a reloaded tokens file: the next free slots follow the new weights
        for (int i = 2; i < 10; i++) {
            weighted.submit(job("b", "b1", i, 1, now));
        }
        weights.put("b", 10.0);
        weights.put("a", 1.0);
        for (int i = 1; i < 4; i++) {
            assertThat(weighted.finish("a1-" + i, "w1#1")).isPresent();
        }
        // a has nothing running, so it takes one slot first; then b, now ten times heavier, the rest
        assertThat(weighted.place()).extracting(Scheduler.Placement::team).containsExactly("a", "b", "b");
    }

    @Test
    void theWorkerHoldingMostInputBytesWinsAmongFreeOnes() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.addWorker("w2#2", "w2", 1);
        scheduler.submit(new JobTicket("b-0", "a", "b", "k0", now, 1, w -> w.equals("w2") ? 100 : 0));
        assertThat(scheduler.place()).extracting(Scheduler.Placement::workerId).containsExactly("w2#2");

        scheduler.submit(new JobTicket("b-1", "a", "b", "k1", now, 1, w -> w.equals("w2") ? 100 : 0));
        assertThat(scheduler.place())
                .as("the holder is full: the job takes a free slot elsewhere instead of waiting")
                .extracting(Scheduler.Placement::workerId)
                .containsExactly("w1#1");
    }

    @Test
    void aLostJobKeepsItsPlaceAndCountsItsAttempts() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.submit(job("a", "b1", 0, 1, now));
        scheduler.submit(job("a", "b1", 1, 1, now));
        assertThat(placed()).containsExactly("b1-0");

        for (int attempt = 1; attempt < Scheduler.MAX_ATTEMPTS; attempt++) {
            assertThat(scheduler.removeWorker("w1#" + attempt)).isEmpty();
            // the same worker restarts under its name: it may take the retried job
            scheduler.addWorker("w1#" + (attempt + 1), "w1", 1);
            assertThat(placed()).as("attempt %d", attempt + 1).containsExactly("b1-0");
        }
        List<Scheduler.Exhausted> exhausted = scheduler.removeWorker("w1#" + Scheduler.MAX_ATTEMPTS);
        assertThat(exhausted).singleElement().satisfies(e -> {
            assertThat(e.jobs()).containsExactly("b1-0");
            assertThat(e.lostOn()).containsExactly("w1", "w1", "w1");
        });
    }

    @Test
    void aRetriedJobPrefersAWorkerThatHasNotLostIt() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.submit(job("a", "b1", 0, 1, now));
        assertThat(placed()).containsExactly("b1-0");
        scheduler.addWorker("w2#2", "w2", 1);
        scheduler.addWorker("w1#3", "w1", 1);

        scheduler.removeWorker("w1#1");

        assertThat(scheduler.place()).extracting(Scheduler.Placement::workerId).containsExactly("w2#2");
    }

    @Test
    void aDrainingWorkerFinishesItsJobsAndTakesNoNewOnes() {
        scheduler.addWorker("w1#1", "w1", 2);
        scheduler.submit(job("a", "b1", 0, 1, now));
        assertThat(placed()).containsExactly("b1-0");
        scheduler.drain("w1#1");
        scheduler.submit(job("a", "b1", 1, 1, now));

        assertThat(placed()).isEmpty();
        assertThat(Map.of(
                        "free", scheduler.slots("free"),
                        "busy", scheduler.slots("busy"),
                        "draining", scheduler.slots("draining")))
                .isEqualTo(Map.of("free", 0, "busy", 1, "draining", 1));
        assertThat(scheduler.finish("b1-0", "w1#1"))
                .map(Scheduler.Finished::jobs)
                .contains(Set.of("b1-0"));
    }

    @Test
    void aWithdrawnQueuedJobLeavesTheQueueAndARunningOneIsStopped() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.submit(job("a", "b1", 0, 1, now));
        scheduler.submit(job("a", "b1", 1, 1, now));
        assertThat(placed()).containsExactly("b1-0");

        assertThat(scheduler.withdraw("b1-1")).isEqualTo(new Scheduler.Withdrawal.Nothing());
        assertThat(scheduler.queued("a")).isZero();
        assertThat(scheduler.withdraw("b1-0")).isEqualTo(new Scheduler.Withdrawal.Stop("b1-0", "w1#1"));
        assertThat(scheduler.running("a")).isZero();

        scheduler.submit(job("a", "b2", 0, 1, now));
        assertThat(placed())
                .as("the stopped run holds its slot until its worker answers")
                .isEmpty();
        assertThat(scheduler.finish("b1-0", "w1#1")).isEmpty();
        assertThat(placed()).containsExactly("b2-0");
    }

    @Test
    void identicalWorkQueuedOrRunningRunsOnceForEveryBuildThatWantsIt() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.submit(job("a", "b0", 0, 1, now)); // keeps the slot busy: b1's work stays queued
        assertThat(placed()).containsExactly("b0-0");

        assertThat(scheduler.submit(new JobTicket("b1-0", "a", "b1", "a/k", now, 1, w -> 0)))
                .isTrue();
        assertThat(scheduler.submit(new JobTicket("b2-0", "a", "b2", "a/k", now, 1, w -> 0)))
                .as("queued twice")
                .isFalse();
        finish("b0-0");
        assertThat(placed()).containsExactly("b1-0");
        assertThat(scheduler.submit(new JobTicket("b3-0", "a", "b3", "a/k", now, 1, w -> 0)))
                .as("running, asked again")
                .isFalse();
        assertThat(scheduler.queued("a")).isZero();

        assertThat(scheduler.finish("b1-0", "w1#1"))
                .map(Scheduler.Finished::jobs)
                .contains(Set.of("b1-0", "b2-0", "b3-0"));
        assertThat(scheduler.submit(new JobTicket("b4-0", "a", "b4", "a/k", now, 1, w -> 0)))
                .as("once finished, the cache answers the next build; the queue forgets the work")
                .isTrue();
    }

    @Test
    void theSameWorkOfAnotherTeamIsNotShared() {
        scheduler.addWorker("w1#1", "w1", 2);
        scheduler.submit(new JobTicket("a1-0", "a", "a1", WorkKey.A, now, 1, w -> 0));
        scheduler.submit(new JobTicket("b1-0", "b", "b1", WorkKey.B, now, 1, w -> 0));
        assertThat(placed()).containsExactlyInAnyOrder("a1-0", "b1-0");
    }

    /** Two teams' keys for one job: WorkKeys puts the team in the key. */
    private static final class WorkKey {
        static final String A = WorkKeys.of(
                "a", Job.newBuilder().setJobId("a1-0").setStageKey("s").build());
        static final String B = WorkKeys.of(
                "b", Job.newBuilder().setJobId("b1-0").setStageKey("s").build());
    }

    @Test
    void aSharedRunOutlivesTheBuildThatStartedIt() {
        scheduler.addWorker("w1#1", "w1", 1);
        scheduler.submit(new JobTicket("b1-0", "a", "b1", "a/k", now, 1, w -> 0));
        scheduler.submit(new JobTicket("b2-0", "a", "b2", "a/k", now, 1, w -> 0));
        assertThat(placed()).containsExactly("b1-0");

        assertThat(scheduler.withdraw("b1-0"))
                .as("b2 still waits for it")
                .isEqualTo(new Scheduler.Withdrawal.Nothing());
        assertThat(scheduler.jobsOf("b1-0")).containsExactly("b2-0");
        assertThat(scheduler.finish("b1-0", "w1#1"))
                .map(Scheduler.Finished::jobs)
                .contains(Set.of("b2-0"));
    }
}
