package dev.stagefarm.worker.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootPathTest {

    @TempDir
    Path tmp;

    @Test
    void symlinksAndDotDotNeverLeaveTheRootfs() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("usr/lib"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        Files.createSymbolicLink(root.resolve("escape"), Path.of("/../../etc"));
        Files.createSymbolicLink(root.resolve("up"), Path.of("../../.."));

        assertThat(RootPath.resolve(root, "/lib/x")).isEqualTo(root.resolve("usr/lib/x"));
        assertThat(RootPath.resolve(root, "/escape/passwd")).isEqualTo(root.resolve("etc/passwd"));
        assertThat(RootPath.resolve(root, "/up/tmp")).isEqualTo(root.resolve("tmp"));
        assertThat(RootPath.resolve(root, "../../a/./b/")).isEqualTo(root.resolve("a/b"));
        assertThat(RootPath.resolve(root, "/")).isEqualTo(root);
    }

    @Test
    void symlinkLoopsAreAnError() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("/a"));

        assertThatThrownBy(() -> RootPath.resolve(root, "/a/x")).hasMessageContaining("too many levels");
    }
}
