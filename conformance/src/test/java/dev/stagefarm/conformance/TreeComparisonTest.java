package dev.stagefarm.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison itself: it must see each kind of difference and ignore only what it documents. */
@Tag("root")
class TreeComparisonTest {

    private static final Instant BUILD_STARTED = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private Path tree(String name) throws Exception {
        Path root = Files.createDirectories(dir.resolve(name));
        Files.writeString(root.resolve("same.txt"), "same\n");
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/app.conf"), "x\n");
        Files.createSymbolicLink(root.resolve("link"), Path.of("same.txt"));
        return root;
    }

    @Test
    void identicalTreesHaveNoDifferences() throws Exception {
        assertThat(compare(tree("a"), tree("b"))).isEmpty();
    }

    @Test
    void reportsContentModeOwnerTypeTargetAndMissingPaths() throws Exception {
        Path a = tree("a");
        Path b = tree("b");
        Files.writeString(b.resolve("same.txt"), "diff\n");
        Files.setAttribute(b.resolve("etc/app.conf"), "unix:mode", 0600);
        Files.setAttribute(b.resolve("etc"), "unix:uid", 1000, LinkOption.NOFOLLOW_LINKS);
        Files.delete(b.resolve("link"));
        Files.createSymbolicLink(b.resolve("link"), Path.of("etc/app.conf"));
        Files.writeString(b.resolve("only-b"), "");
        Files.createDirectories(a.resolve("only-a"));

        assertThat(compare(a, b))
                .containsExactlyInAnyOrder(
                        "/etc: uid stagefarm 0, BuildKit 1000",
                        "/etc/app.conf: mode stagefarm 0644, BuildKit 0600",
                        "/link: symlink target stagefarm same.txt, BuildKit etc/app.conf",
                        "/only-a: only in stagefarm's image (dir 0755 0:0)",
                        "/only-b: only in BuildKit's image (file 0644 0:0 0 bytes)",
                        "/same.txt: content sha256 stagefarm " + FileTree.sha256(a.resolve("same.txt")) + ", BuildKit "
                                + FileTree.sha256(b.resolve("same.txt")));
    }

    @Test
    void reportsBrokenHardLinks() throws Exception {
        Path a = tree("a");
        Path b = tree("b");
        Files.createLink(a.resolve("hard"), a.resolve("same.txt"));
        Files.copy(b.resolve("same.txt"), b.resolve("hard"));
        assertThat(compare(a, b))
                .containsExactlyInAnyOrder(
                        "/hard: hard links stagefarm [/same.txt], BuildKit []",
                        "/same.txt: hard links stagefarm [/hard], BuildKit []");
    }

    @Test
    void comparesOnlyTheMtimesOfFilesTheBuildDidNotWrite() throws Exception {
        Path a = tree("a");
        Path b = tree("b");
        Files.setLastModifiedTime(a.resolve("same.txt"), FileTime.from(Instant.EPOCH));
        Files.setLastModifiedTime(b.resolve("same.txt"), FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        Files.setLastModifiedTime(a.resolve("etc/app.conf"), FileTime.from(Instant.EPOCH));
        Files.setLastModifiedTime(b.resolve("etc/app.conf"), FileTime.from(BUILD_STARTED.plusSeconds(5)));
        assertThat(compare(a, b))
                .containsExactly("/same.txt: mtime stagefarm 1970-01-01T00:00:00Z, BuildKit 2020-01-01T00:00:00Z");
    }

    @Test
    void ignoresWhatDockersInitLayerAdds() throws Exception {
        Path a = Files.createDirectories(dir.resolve("scratch-a"));
        Path b = Files.createDirectories(dir.resolve("scratch-b"));
        Files.writeString(a.resolve("app"), "x");
        Files.writeString(b.resolve("app"), "x");
        Files.createDirectories(b.resolve("etc"));
        Files.createDirectories(b.resolve("dev/pts"));
        Files.createDirectories(b.resolve("proc"));
        Files.writeString(b.resolve("etc/hosts"), "");
        Files.writeString(b.resolve(".dockerenv"), "");
        assertThat(compare(a, b)).isEmpty();
        Files.writeString(b.resolve("etc/extra"), "");
        assertThat(compare(a, b))
                .containsExactlyInAnyOrder(
                        "/etc: only in BuildKit's image (dir 0755 0:0)",
                        "/etc/extra: only in BuildKit's image (file 0644 0:0 0 bytes)");
    }

    private static List<String> compare(Path stagefarm, Path buildkit) throws Exception {
        return TreeComparison.compare(FileTree.read(stagefarm), FileTree.read(buildkit), BUILD_STARTED);
    }
}
