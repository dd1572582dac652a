package dev.stagefarm.worker.disk;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LruPolicyTest {

    private final LruPolicy lru = new LruPolicy();

    @Test
    void evictsTheLeastRecentlyUsedFirstUntilTheNewBytesFit() {
        lru.add("a", 40);
        lru.add("b", 40);
        lru.add("c", 40);
        lru.touch("a"); // a is now the most recently used: b goes first

        assertThat(lru.evict(100, 0)).containsExactly(new LruPolicy.Victim("b", 40));
        assertThat(lru.used()).isEqualTo(80);
        assertThat(lru.evict(100, 50)).as("room for 50 more").containsExactly(new LruPolicy.Victim("c", 40));
        assertThat(lru.contains("a")).isTrue();
    }

    @Test
    void underTheBudgetNothingIsEvicted() {
        lru.add("a", 60);
        lru.add("b", 40);

        assertThat(lru.evict(100, 0)).isEmpty();
        assertThat(lru.used()).isEqualTo(100);
    }

    @Test
    void aPinnedEntryIsNeverEvictedEvenWhenTheBudgetStaysExceeded() {
        lru.add("running-job-base", 80);
        lru.add("old", 30);
        lru.pin("running-job-base");

        assertThat(lru.evict(50, 0)).containsExactly(new LruPolicy.Victim("old", 30));
        assertThat(lru.used()).as("over budget by what the running job holds").isEqualTo(80);
        assertThat(lru.evict(50, 0)).isEmpty();
    }

    @Test
    void pinsCountSoTwoJobsSharingAnEntryBothHaveToLetGo() {
        lru.add("shared", 80);
        lru.pin("shared");
        lru.pin("shared");

        lru.unpin("shared");
        assertThat(lru.evict(50, 0)).isEmpty();
        lru.unpin("shared");
        assertThat(lru.evict(50, 0)).containsExactly(new LruPolicy.Victim("shared", 80));
    }

    @Test
    void aPinTakenBeforeTheEntryExistsHoldsIt() {
        lru.pin("being-unpacked");
        lru.add("being-unpacked", 70);

        assertThat(lru.evict(50, 0)).isEmpty();
    }

    @Test
    void aNewSizeForAKnownEntryReplacesTheOld() {
        lru.add("a", 10);
        lru.add("a", 25);

        assertThat(lru.used()).isEqualTo(25);
    }

    @Test
    void aTeamFillingTheDiskEvictsItsOwnEntriesBeforeAnotherTeamsOlderOnes() {
        lru.add("alice-base", 20, "alice"); // the oldest entry on the disk
        for (int i = 1; i <= 4; i++) {
            lru.add("bob-" + i, 30, "bob");
        }

        assertThat(lru.evict(100, 0))
                .as("bob holds the most: his least recently used go until the disk fits")
                .containsExactly(new LruPolicy.Victim("bob-1", 30, "bob"), new LruPolicy.Victim("bob-2", 30, "bob"));
        assertThat(lru.contains("alice-base")).isTrue();
        assertThat(lru.usedByTeam()).containsEntry("alice", 20L).containsEntry("bob", 60L);
    }

    @Test
    void onceTheTeamsHoldAboutTheSameTheLeastRecentlyUsedOfTheLargerGoesFirst() {
        lru.add("alice-1", 40, "alice");
        lru.add("bob-1", 30, "bob");
        lru.add("bob-2", 20, "bob");
        lru.add("alice-2", 15, "alice");

        assertThat(lru.evict(80, 0)).containsExactly(new LruPolicy.Victim("alice-1", 40, "alice"));
        assertThat(lru.evict(40, 0))
                .as("bob now holds 50 against alice's 15")
                .containsExactly(new LruPolicy.Victim("bob-1", 30, "bob"));
    }

    @Test
    void whenTheLargerTeamsEntriesAreAllInUseTheOthersGive() {
        lru.add("bob-running", 90, "bob");
        lru.pin("bob-running");
        lru.add("alice-old", 30, "alice");

        assertThat(lru.evict(100, 0)).containsExactly(new LruPolicy.Victim("alice-old", 30, "alice"));
        assertThat(lru.usedByTeam()).containsOnlyKeys("bob");
    }
}
