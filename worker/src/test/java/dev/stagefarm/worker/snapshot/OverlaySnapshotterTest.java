package dev.stagefarm.worker.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.linux.LinuxFiles;
import dev.stagefarm.worker.linux.MountInfo;
import dev.stagefarm.worker.linux.Mounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("root")
class OverlaySnapshotterTest {

    @TempDir
    Path tmp;

    OverlaySnapshotter snapshotter;

    @BeforeEach
    void open() throws IOException {
        snapshotter = OverlaySnapshotter.open(tmp.resolve("snapshots"));
    }

    @AfterEach
    void noMountsLeft() throws IOException {
        List<MountInfo> left = MountInfo.under(tmp);
        for (MountInfo m : left.reversed()) {
            Mounts.unmountDetached(m.mountPoint()); // so that @TempDir can clean up after a failure
        }
        assertThat(left).as("mounts left behind").isEmpty();
    }

    @Test
    void deletionsBecomeWhiteoutsAndStayDeletedInTheNextLayer() throws IOException {
        commit(List.of(), "base", merged -> {
            Files.createDirectories(merged.resolve("etc"));
            Files.writeString(merged.resolve("etc/motd"), "hi\n");
            Files.writeString(merged.resolve("etc/keep"), "keep\n");
        });

        Path upper;
        try (ActiveSnapshot step = snapshotter.prepare(List.of("base"))) {
            assertThat(step.merged().resolve("etc/motd")).hasContent("hi");
            Files.delete(step.merged().resolve("etc/motd"));
            Files.writeString(
                    Files.createDirectories(step.merged().resolve("d")).resolve("f"), "x\n");
            upper = step.commit("step");
        }

        assertThat(LinuxFiles.isWhiteout(upper.resolve("etc/motd"))).isTrue();
        assertThat(upper.resolve("etc/keep")).doesNotExist(); // untouched files stay in the lower
        assertThat(upper.resolve("d/f")).hasContent("x");
        assertThat(snapshotter.committedDir("step")).isEqualTo(upper);
        try (ActiveSnapshot next = snapshotter.prepare(List.of("base", "step"))) {
            assertThat(next.merged().resolve("etc/motd")).doesNotExist();
            assertThat(next.merged().resolve("etc/keep")).hasContent("keep");
            assertThat(next.merged().resolve("d/f")).hasContent("x");
        }
    }

    @Test
    void replacedDirectoryIsOpaque() throws IOException {
        commit(
                List.of(),
                "base",
                merged -> Files.writeString(
                        Files.createDirectories(merged.resolve("dir")).resolve("old"), "old"));
        Path upper = commit(List.of("base"), "replace", merged -> {
            Files.delete(merged.resolve("dir/old"));
            Files.delete(merged.resolve("dir"));
            Files.writeString(Files.createDirectory(merged.resolve("dir")).resolve("new"), "new");
        });

        assertThat(LinuxFiles.isOpaque(upper.resolve("dir"))).isTrue();
        try (ReadOnlyView view = snapshotter.mountReadOnly(List.of("base", "replace"))) {
            assertThat(list(view.path().resolve("dir"))).containsExactly("new");
        }
    }

    @Test
    void stacksMoreLayersThanFitInOneMountOptionPage() throws IOException {
        List<String> chain = new ArrayList<>();
        for (int i = 0; i < 130; i++) {
            int n = i;
            commit(chain, "layer" + n, merged -> {
                Files.writeString(merged.resolve("file" + n), "layer " + n);
                Files.writeString(merged.resolve("top"), "layer " + n);
            });
            chain.add("layer" + n);
        }
        String plain = String.join(
                ":",
                chain.stream()
                        .map(k -> {
                            try {
                                return snapshotter.committedDir(k).toString();
                            } catch (NoSuchSnapshotException e) {
                                throw new AssertionError(e);
                            }
                        })
                        .toList());
        assertThat(plain.length())
                .as("lowerdir list must overflow a page for this test")
                .isGreaterThan(4096);

        for (List<String> lowers : List.of(chain.subList(0, 45), chain)) {
            try (ActiveSnapshot s = snapshotter.prepare(lowers)) {
                assertThat(s.merged().resolve("file0")).hasContent("layer 0");
                assertThat(s.merged().resolve("top")).hasContent("layer " + (lowers.size() - 1));
                assertThat(list(s.merged())).hasSize(lowers.size() + 1);
            }
        }
    }

    @Test
    void committingAnExistingKeyKeepsTheFirstAndDiscardsOurs() throws IOException {
        Path first = commit(List.of(), "same", merged -> Files.writeString(merged.resolve("f"), "first"));
        Path second = commit(List.of(), "same", merged -> Files.writeString(merged.resolve("f"), "second"));

        assertThat(second).isEqualTo(first);
        assertThat(first.resolve("f")).hasContent("first");
        try (Stream<Path> dirs = Files.list(snapshotter.root().resolve("s"))) {
            assertThat(dirs).hasSize(1);
        }
    }

    @Test
    void readOnlyViews() throws IOException {
        Path a = commit(List.of(), "a", merged -> Files.writeString(merged.resolve("a"), "a"));
        commit(List.of("a"), "b", merged -> Files.writeString(merged.resolve("b"), "b"));

        try (ReadOnlyView one = snapshotter.mountReadOnly(List.of("a"))) {
            assertThat(one.path()).isEqualTo(a);
        }
        try (ReadOnlyView both = snapshotter.mountReadOnly(List.of("a", "b"))) {
            assertThat(list(both.path())).containsExactly("a", "b");
            assertThatThrownBy(() -> Files.writeString(both.path().resolve("c"), "c"))
                    .hasMessageContaining("Read-only file system");
        }
        try (ReadOnlyView none = snapshotter.mountReadOnly(List.of())) {
            assertThat(list(none.path())).isEmpty();
        }
    }

    /**
     * Two steps that write the same file with the same bytes make one layer: the chain names one
     * snapshot twice, with another between, and it still mounts (overlayfs refuses a directory
     * given twice) and shows what the steps wrote.
     */
    @Test
    void aChainThatNamesOneSnapshotTwiceMountsAndShowsTheTopMostCopy() throws IOException {
        commit(List.of(), "write-f", merged -> Files.writeString(merged.resolve("f"), "same"));
        commit(List.of("write-f"), "change-f", merged -> {
            Files.writeString(merged.resolve("f"), "changed");
            Files.writeString(merged.resolve("g"), "between");
        });
        snapshotter.alias("write-f", "write-f-again");

        try (ActiveSnapshot s = snapshotter.prepare(List.of("write-f", "change-f", "write-f-again"))) {
            assertThat(s.merged().resolve("f")).hasContent("same");
            assertThat(s.merged().resolve("g")).hasContent("between");
        }
        try (ReadOnlyView view = snapshotter.mountReadOnly(List.of("write-f", "change-f", "write-f-again"))) {
            assertThat(view.path().resolve("f")).hasContent("same");
        }
    }

    @Test
    void unknownParentIsAClearError() {
        assertThatThrownBy(() -> snapshotter.prepare(List.of("nope")))
                .isInstanceOf(NoSuchSnapshotException.class)
                .hasMessageContaining("no committed snapshot with key nope");
        assertThat(snapshotter.exists("nope")).isFalse();
    }

    @Test
    void reopeningAfterACrashDetachesMountsAndDropsUncommittedSnapshots() throws IOException {
        commit(List.of(), "base", merged -> Files.writeString(merged.resolve("f"), "base"));
        commit(List.of("base"), "other", merged -> Files.writeString(merged.resolve("g"), "other"));
        ActiveSnapshot abandoned = snapshotter.prepare(List.of("base"));
        Files.writeString(abandoned.merged().resolve("half-written"), "x");
        snapshotter.mountReadOnly(List.of("base", "other"));
        assertThat(MountInfo.under(tmp)).hasSize(2);

        OverlaySnapshotter restarted = OverlaySnapshotter.open(tmp.resolve("snapshots"));

        assertThat(MountInfo.under(tmp)).isEmpty();
        assertThat(abandoned.upper()).doesNotExist();
        assertThat(restarted.committedDir("base").resolve("f")).hasContent("base");
        try (ActiveSnapshot again = restarted.prepare(List.of("base"))) {
            assertThat(again.merged().resolve("f")).hasContent("base");
            assertThat(again.upper()).isNotEqualTo(abandoned.upper()); // ids are not reused
        }
    }

    @Test
    void closeDiscardsTheChanges() throws IOException {
        ActiveSnapshot s = snapshotter.prepare(List.of());
        Files.writeString(s.merged().resolve("f"), "x");
        s.close();
        s.close();

        assertThat(s.upper()).doesNotExist();
        assertThatThrownBy(() -> s.commit("k")).isInstanceOf(IllegalStateException.class);
        assertThat(snapshotter.exists("k")).isFalse();
    }

    @Test
    void directSnapshotsAreWrittenWithoutAMount() throws IOException {
        Path upper;
        try (ActiveSnapshot direct = snapshotter.prepareDirect()) {
            assertThat(direct.merged()).isEqualTo(direct.upper());
            Files.writeString(direct.upper().resolve("unpacked"), "layer");
            assertThat(MountInfo.under(tmp)).isEmpty();
            upper = direct.commit("unpacked-layer");
        }

        assertThat(upper.resolve("unpacked")).hasContent("layer");
        try (ActiveSnapshot next = snapshotter.prepare(List.of("unpacked-layer"))) {
            assertThat(next.merged().resolve("unpacked")).hasContent("layer");
        }
    }

    interface Changes {
        void apply(Path merged) throws IOException;
    }

    private Path commit(List<String> parents, String key, Changes changes) throws IOException {
        try (ActiveSnapshot s = snapshotter.prepare(parents)) {
            changes.apply(s.merged());
            return s.commit(key);
        }
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .sorted(Comparator.naturalOrder())
                    .toList();
        }
    }
}
