package dev.stagefarm.worker.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.linux.MountInfo;
import dev.stagefarm.worker.linux.Mounts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real overlay snapshots under a {@link DiskBudget}: what an eviction removes, and what a job's use protects. */
@Tag("root")
class SnapshotEvictionTest {

    private static final long MIB = 1 << 20;

    @TempDir
    Path tmp;

    @AfterEach
    void noMountsLeft() throws IOException {
        List<MountInfo> left = MountInfo.under(tmp);
        for (MountInfo m : left.reversed()) {
            Mounts.unmountDetached(m.mountPoint());
        }
        assertThat(left).as("mounts left behind").isEmpty();
    }

    @Test
    void anEvictedSnapshotLosesEveryKeyAndItsFilesWhileALowerInUseStays() throws Exception {
        OverlaySnapshotter snapshots = OverlaySnapshotter.open(tmp.resolve("snapshots"));
        DiskBudget budget = new DiskBudget(3 * MIB, new SimpleMeterRegistry());
        snapshots.trackIn(budget);

        Path old = commit(snapshots, "run:old", 2);
        snapshots.alias("run:old", "layer:old");
        try (DiskBudget.Lease job = budget.lease()) {
            job.call(() -> {
                commit(snapshots, "layer:base", 2);
                // a step runs on the base: the base is pinned by this job while the old one is not
                try (ActiveSnapshot step = snapshots.prepare(List.of("layer:base"))) {
                    Files.write(step.merged().resolve("out"), new byte[(int) MIB]);
                    step.commit("layer:step");
                }
                assertThat(snapshots.exists("layer:old")).as("alias").isFalse();
                assertThat(snapshots.exists("run:old")).as("first key").isFalse();
                assertThat(old).doesNotExist();
                assertThat(budget.used())
                        .as("over budget by what the running job holds")
                        .isGreaterThan(3 * MIB);
                assertThat(snapshots.exists("layer:base") && snapshots.exists("layer:step"))
                        .isTrue();
                return null;
            });
        }

        assertThat(budget.used()).as("once the job ended").isLessThanOrEqualTo(3 * MIB);
        assertThat(snapshots.exists("layer:base") ^ snapshots.exists("layer:step"))
                .as("one of the two went")
                .isTrue();
    }

    @Test
    void aRestartedWorkerCountsWhatItsSnapshotsTakeAndEvictsThemToItsNewBudget() throws Exception {
        OverlaySnapshotter first = OverlaySnapshotter.open(tmp.resolve("snapshots"));
        commit(first, "layer:a", 2);
        commit(first, "layer:b", 2);

        OverlaySnapshotter restarted = OverlaySnapshotter.open(tmp.resolve("snapshots"));
        DiskBudget budget = new DiskBudget(3 * MIB, new SimpleMeterRegistry());
        restarted.trackIn(budget);

        assertThat(restarted.exists("layer:a")).as("the older one goes").isFalse();
        assertThat(restarted.exists("layer:b")).isTrue();
        assertThat(budget.used()).isBetween(2 * MIB, 3 * MIB);
    }

    private static Path commit(OverlaySnapshotter snapshots, String key, int mib) throws IOException {
        try (ActiveSnapshot s = snapshots.prepareDirect()) {
            Files.write(s.upper().resolve("data"), new byte[mib * (int) MIB]);
            return s.commit(key);
        }
    }
}
