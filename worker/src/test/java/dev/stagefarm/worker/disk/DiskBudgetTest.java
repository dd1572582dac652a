package dev.stagefarm.worker.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.auth.TeamChannel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The budget over real files: what it evicts, what it keeps for running jobs, what it reports. */
class DiskBudgetTest {

    private static final long KIB = 1024;

    @TempDir
    Path dir;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DiskBudget budget = new DiskBudget(100 * KIB, meters);
    private final List<String> evicted = new ArrayList<>();

    DiskBudgetTest() {
        budget.register(DiskBudget.Kind.BLOB, name -> {
            evicted.add(name);
            Files.deleteIfExists(dir.resolve(name));
            return () -> {};
        });
    }

    @Test
    void aFinishedJobsEntriesAreEvictedOldestFirstToStayUnderTheBudget() throws Exception {
        for (String name : List.of("a", "b", "c")) {
            try (DiskBudget.Lease lease = budget.lease()) {
                lease.call(() -> blob(name, 40));
            }
        }

        assertThat(evicted).containsExactly("a");
        assertThat(Files.exists(dir.resolve("a"))).isFalse();
        assertThat(budget.used()).isEqualTo(80 * KIB);
        assertThat(meters.get("stagefarm.worker.disk.used").gauge().value()).isEqualTo(80.0 * KIB);
        assertThat(meters.get("stagefarm.worker.disk.budget").gauge().value()).isEqualTo(100.0 * KIB);
        assertThat(meters.get("stagefarm.worker.disk.evicted").counter().count())
                .isEqualTo(40.0 * KIB);
    }

    @Test
    void whatARunningJobUsesStaysUntilItEndsThenGoes() throws Exception {
        try (DiskBudget.Lease lease = budget.lease()) {
            lease.call(() -> {
                blob("base", 60);
                blob("layer", 60);
                assertThat(evicted).as("the job holds both").isEmpty();
                assertThat(budget.used()).isEqualTo(120 * KIB);
                return null;
            });
        }
        assertThat(evicted).as("at the job's end, the older goes").containsExactly("base");
    }

    @Test
    void aLookupPinsForTheJobAndAnotherJobCannotEvictIt() throws Exception {
        try (DiskBudget.Lease old = budget.lease()) {
            old.call(() -> blob("shared", 50));
        }
        try (DiskBudget.Lease reader = budget.lease()) {
            reader.call(() -> budget.use(DiskBudget.Kind.BLOB, "shared", () -> Files.exists(dir.resolve("shared"))));
            // another job, on another thread, needs room
            try (var other = Executors.newSingleThreadExecutor();
                    DiskBudget.Lease writer = budget.lease()) {
                other.submit(() -> writer.call(() -> blob("big", 70))).get();
            }
            assertThat(evicted)
                    .as("the writer's own blob goes when it ends: the older one is pinned")
                    .containsExactly("big");
            assertThat(Files.exists(dir.resolve("shared"))).isTrue();
        }
        assertThat(budget.used()).isEqualTo(50 * KIB);
    }

    @Test
    void makingRoomForAPullEvictsBeforeTheBytesArrive() throws Exception {
        try (DiskBudget.Lease lease = budget.lease()) {
            lease.call(() -> blob("old", 50));
        }

        budget.makeRoom(60 * KIB);

        assertThat(evicted).containsExactly("old");
        assertThat(budget.used()).isZero();
    }

    @Test
    void withoutABudgetNothingIsEvictedButUsageIsCounted() throws Exception {
        DiskBudget none = new DiskBudget(0, new SimpleMeterRegistry());
        none.register(DiskBudget.Kind.BLOB, name -> {
            evicted.add(name);
            return () -> {};
        });
        none.added(DiskBudget.Kind.BLOB, "x", 1L << 40);
        none.makeRoom(1L << 40);

        assertThat(evicted).isEmpty();
        assertThat(none.used()).isEqualTo(1L << 40);
    }

    @Test
    void diskUsageCountsBlocksAndHardLinksOnce() throws IOException {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.write(tree.resolve("one-byte"), new byte[1]);
        Files.createLink(tree.resolve("same-inode"), tree.resolve("one-byte"));
        Files.write(tree.resolve("five-k"), new byte[5000]);

        assertThat(DiskUsage.of(tree)).isEqualTo(4096 /* dir */ + 4096 + 8192);
    }

    @Test
    void eachTeamsShareOfTheDiskIsAGaugeAndTheLargestShareIsEvictedFirst() throws Exception {
        for (String[] entry : new String[][] {{"alice", "a1"}, {"bob", "b1"}, {"bob", "b2"}, {"bob", "b3"}}) {
            TeamChannel.callAs(entry[0], () -> {
                try (DiskBudget.Lease lease = budget.lease()) {
                    return lease.call(() -> blob(entry[1], 30));
                }
            });
        }

        assertThat(evicted).as("bob's oldest, not alice's older one").containsExactly("b1");
        assertThat(meters.get("stagefarm.worker.disk.team.used")
                        .tag("team", "alice")
                        .gauge()
                        .value())
                .isEqualTo(30.0 * KIB);
        assertThat(meters.get("stagefarm.worker.disk.team.used")
                        .tag("team", "bob")
                        .gauge()
                        .value())
                .isEqualTo(60.0 * KIB);
    }

    private Object blob(String name, long kib) throws IOException {
        Files.write(dir.resolve(name), new byte[(int) (kib * KIB)]);
        budget.added(DiskBudget.Kind.BLOB, name, kib * KIB);
        return null;
    }
}
