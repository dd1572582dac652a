package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** COPY --exclude, --parents and symbolic --chmod on real directories. */
@Tag("root")
class CopyFlagsTest {

    @TempDir
    Path tmp;

    Path context;
    Path rootfs;
    final CopyExecutor copier = new CopyExecutor();

    @BeforeEach
    void dirs() throws IOException {
        context = Files.createDirectories(tmp.resolve("context"));
        rootfs = Files.createDirectories(tmp.resolve("rootfs"));
        write("app/main.go", "package main");
        write("app/notes.txt", "notes");
        write("app/docs/guide.txt", "guide");
        write("app/docs/logo.png", "png");
        write("lib/util.go", "package lib");
    }

    @Test
    void excludedFilesAndDirectoriesAreLeftOut() throws Exception {
        copy(List.of("app"), "/dst", List.of("*.txt", "docs/*.png"), false, Optional.empty());

        assertThat(rootfs.resolve("dst/main.go")).hasContent("package main");
        assertThat(rootfs.resolve("dst/notes.txt")).doesNotExist();
        assertThat(rootfs.resolve("dst/docs/logo.png")).doesNotExist();
        assertThat(rootfs.resolve("dst/docs/guide.txt"))
                .as("*.txt matches one level only")
                .hasContent("guide");
    }

    @Test
    void excludePatternsWithDoubleStarCrossDirectories() throws Exception {
        copy(List.of("."), "/dst/", List.of("**/*.txt"), false, Optional.empty());

        assertThat(rootfs.resolve("dst/app/docs/guide.txt")).doesNotExist();
        assertThat(rootfs.resolve("dst/app/notes.txt")).doesNotExist();
        assertThat(rootfs.resolve("dst/lib/util.go")).exists();
    }

    @Test
    void parentsKeepTheSourcePathUnderTheDestination() throws Exception {
        copy(List.of("app/main.go", "lib/*.go"), "/src/", List.of(), true, Optional.empty());

        assertThat(rootfs.resolve("src/app/main.go")).hasContent("package main");
        assertThat(rootfs.resolve("src/lib/util.go")).hasContent("package lib");
        assertThat(rootfs.resolve("src/main.go")).doesNotExist();
    }

    @Test
    void parentsKeepOnlyWhatFollowsAPivot() throws Exception {
        copy(List.of("app/./docs/guide.txt"), "/out/", List.of(), true, Optional.empty());

        assertThat(rootfs.resolve("out/docs/guide.txt")).hasContent("guide");
        assertThat(rootfs.resolve("out/app")).doesNotExist();
    }

    @Test
    void symbolicChmodEditsEachFilesMode() throws Exception {
        Files.setAttribute(context.resolve("app/main.go"), "unix:mode", 0640);
        Files.setAttribute(context.resolve("app/notes.txt"), "unix:mode", 0600);
        copy(
                List.of("app/main.go", "app/notes.txt"),
                "/bin/",
                List.of(),
                false,
                Optional.of(FileModeTest.symbolic(FileModeTest.A, "+", "rX", FileModeTest.U, "+", "x")));

        assertThat(mode("bin/main.go"))
                .as("X adds nothing to a non-executable file")
                .isEqualTo(0744);
        assertThat(mode("bin/notes.txt")).isEqualTo(0744);
    }

    private int mode(String path) throws IOException {
        return (Integer) Files.getAttribute(rootfs.resolve(path), "unix:mode") & 07777;
    }

    private void copy(
            List<String> sources, String dest, List<String> excludes, boolean parents, Optional<FileMode> mode)
            throws Exception {
        copier.copy(
                new CopyExecutor.Request(context, sources, dest, "/", Optional.empty(), mode, false, excludes, parents),
                rootfs);
    }

    private void write(String path, String content) throws IOException {
        Path p = context.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }
}
