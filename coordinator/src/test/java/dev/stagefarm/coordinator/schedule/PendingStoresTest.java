package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PendingStoresTest {

    private final PendingStores stores = new PendingStores();

    @Test
    void aLookupOfAStepBeingStoredGoesOnOnceItsWorkerSaysItIsStored() throws Exception {
        stores.storing("b1-0", "w1", "team-a", "step-key");

        CompletableFuture<Void> lookup = lookUp("team-a", List.of("other-key", "step-key"), Duration.ofMinutes(1));

        Thread.sleep(200);
        assertThat(lookup).isNotDone();
        stores.stored("b1-0", "w1");
        lookup.get(5, TimeUnit.SECONDS);
        assertThat(stores.size()).isZero();
    }

    /** A reconnected worker's hello names a store, and its result, sent again, says it is pending. */
    @Test
    void aStoreHeardOfTwiceIsOneWaitThatItsStoredEnds() throws Exception {
        stores.storing("b1-0", "w1", "team-a", "step-key");
        CompletableFuture<Void> lookup = lookUp("team-a", List.of("step-key"), Duration.ofMinutes(1));
        Thread.sleep(200);

        stores.storing("b1-0", "w1", "team-a", "step-key");
        assertThat(lookup).isNotDone();
        stores.stored("b1-0", "w1");

        lookup.get(5, TimeUnit.SECONDS);
        lookUp("team-a", List.of("step-key"), Duration.ofMinutes(1)).get(5, TimeUnit.SECONDS);
    }

    @Test
    void anotherTeamsStepOrAnotherStepIsLookedUpAtOnce() throws Exception {
        stores.storing("b1-0", "w1", "team-a", "step-key");

        lookUp("team-b", List.of("step-key"), Duration.ofMinutes(1)).get(5, TimeUnit.SECONDS);
        lookUp("team-a", List.of("other-key"), Duration.ofMinutes(1)).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aWorkerThatGoesAwayEndsTheWaitsForItsStores() throws Exception {
        stores.storing("b1-0", "w1", "team-a", "k1");
        stores.storing("b2-0", "w2", "team-a", "k2");
        CompletableFuture<Void> lookup = lookUp("team-a", List.of("k1"), Duration.ofMinutes(1));

        stores.workerGone("w1");

        lookup.get(5, TimeUnit.SECONDS);
        assertThat(stores.size()).isEqualTo(1);
    }

    @Test
    void anotherWorkerCannotEndAStoreItDoesNotOwn() throws Exception {
        stores.storing("b1-0", "w1", "team-a", "k1");
        CompletableFuture<Void> lookup = lookUp("team-a", List.of("k1"), Duration.ofMinutes(1));

        stores.stored("b1-0", "w2");

        Thread.sleep(200);
        assertThat(lookup).isNotDone();
        assertThat(stores.size()).isEqualTo(1);
        stores.stored("b1-0", "w1");
        lookup.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aStoreThatNeverEndsHoldsALookupNoLongerThanItsBound() throws Exception {
        stores.storing("b1-0", "w1", "team-a", "k1");
        long t0 = System.nanoTime();

        lookUp("team-a", List.of("k1"), Duration.ofMillis(300)).get(5, TimeUnit.SECONDS);

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(250), Duration.ofSeconds(4));
    }

    @Test
    void aLaterJobStoringTheSameStepIsWaitedForUntilItEnds() throws Exception {
        stores.storing("b1-0", "w1", "team-a", "k1");
        stores.storing("b2-0", "w2", "team-a", "k1");
        stores.stored("b1-0", "w1"); // the earlier job's end must not release the later one's wait

        CompletableFuture<Void> lookup = lookUp("team-a", List.of("k1"), Duration.ofMinutes(1));
        Thread.sleep(200);
        assertThat(lookup).isNotDone();
        stores.stored("b2-0", "w2");
        lookup.get(5, TimeUnit.SECONDS);
    }

    private CompletableFuture<Void> lookUp(String team, List<String> keys, Duration max) {
        return CompletableFuture.runAsync(() -> {
            try {
                stores.awaitStored(team, keys, max);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
