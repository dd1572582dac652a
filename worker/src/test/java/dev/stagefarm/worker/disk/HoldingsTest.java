package dev.stagefarm.worker.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.auth.TeamChannel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the worker tells the coordinator it holds: per team, by content key, added and evicted. */
class HoldingsTest {

    private static final long KIB = 1024;

    @TempDir
    Path dir;

    private final DiskBudget budget = new DiskBudget(100 * KIB, new SimpleMeterRegistry());

    HoldingsTest() {
        budget.register(DiskBudget.Kind.BLOB, name -> {
            Files.deleteIfExists(dir.resolve(name));
            return () -> {};
        });
        budget.register(DiskBudget.Kind.SNAPSHOT, name -> () -> {});
    }

    private void asTeam(String team, DiskBudget.Kind kind, String name, long kib, String key) throws Exception {
        try (DiskBudget.Lease lease = budget.lease()) {
            lease.call(() -> TeamChannel.callAs(team, () -> {
                budget.added(kind, name, kib * KIB, key);
                return null;
            }));
        }
    }

    @Test
    void whatAJobFetchesIsReportedForItsTeamOnlyAndItsEvictionLater() throws Exception {
        asTeam("a", DiskBudget.Kind.BLOB, "go", 60, null);
        asTeam("b", DiskBudget.Kind.SNAPSHOT, "7", 10, "layer:sha256:busybox");
        asTeam("b", DiskBudget.Kind.SNAPSHOT, "8", 10, "run:b-0:1");

        Holdings.Changes first = budget.holdings().drain(1000);
        assertThat(first.added())
                .as("a step's own snapshot key means nothing to the coordinator")
                .containsExactly(
                        new Holdings.Item("a", "sha256:go", 60 * KIB),
                        new Holdings.Item("b", "snapshot:layer:sha256:busybox", 10 * KIB));
        assertThat(budget.holdings().drain(1000).isEmpty()).as("reported once").isTrue();

        asTeam("a", DiskBudget.Kind.BLOB, "big", 60, null); // over the 100 KiB budget: "go" goes
        Holdings.Changes second = budget.holdings().drain(1000);
        assertThat(second.evicted()).containsExactly(new Holdings.Item("a", "sha256:go", 0));
        assertThat(second.added()).containsExactly(new Holdings.Item("a", "sha256:big", 60 * KIB));
    }

    @Test
    void anotherTeamsLookupMakesAnEntryItsTooButNotAnEntryLeftFromAnEarlierRun() throws Exception {
        budget.added(DiskBudget.Kind.BLOB, "left-over", 5 * KIB); // at start-up: no job, no team
        asTeam("a", DiskBudget.Kind.BLOB, "go", 20, null);
        assertThat(budget.holdings().full()).containsExactly(new Holdings.Item("a", "sha256:go", 20 * KIB));

        try (DiskBudget.Lease lease = budget.lease()) {
            lease.call(() -> TeamChannel.callAs("b", () -> {
                assertThat(budget.use(DiskBudget.Kind.BLOB, "go", () -> true)).isTrue();
                assertThat(budget.use(DiskBudget.Kind.BLOB, "left-over", () -> true))
                        .isTrue();
                return null;
            }));
        }
        assertThat(budget.holdings().drain(1000).added())
                .containsExactlyInAnyOrder(
                        new Holdings.Item("b", "sha256:go", 20 * KIB),
                        new Holdings.Item("b", "sha256:left-over", 5 * KIB));
    }

    @Test
    void aKeyBackedByTwoEntriesStaysHeldUntilBothAreGoneAndChangesComeInBoundedBatches() {
        Holdings h = new Holdings();
        h.held("BLOB:x", List.of("sha256:x"), 10, "a");
        h.held("ARTIFACT:x", List.of("sha256:x"), 30, "a");
        for (int i = 0; i < 5; i++) {
            h.held("BLOB:" + i, List.of("sha256:" + i), 1, "a");
        }
        assertThat(h.drain(4).added()).hasSize(4);
        assertThat(h.drain(4).added()).hasSize(2);

        h.evicted("BLOB:x");
        assertThat(h.drain(100).isEmpty())
                .as("the unpacked artifact still holds it")
                .isTrue();
        h.evicted("ARTIFACT:x");
        assertThat(h.drain(100).evicted()).containsExactly(new Holdings.Item("a", "sha256:x", 0));
        assertThat(h.size()).isEqualTo(5);

        h.held("BLOB:y", List.of("sha256:y"), 1, "a");
        assertThat(h.full()).hasSize(6);
        assertThat(h.drain(100).isEmpty())
                .as("a full set includes the changes so far")
                .isTrue();
    }
}
