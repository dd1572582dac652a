package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsPathTest {

    @TempDir
    Path tmp;

    @Test
    void symlinksAndDotDotNeverLeaveTheRootfs() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("usr/lib"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        Files.createSymbolicLink(root.resolve("escape"), Path.of("/../../etc"));
        Files.createSymbolicLink(root.resolve("up"), Path.of("../../.."));

        assertThat(RootfsPath.resolve(root, "/lib/x")).isEqualTo(root.resolve("usr/lib/x"));
        assertThat(RootfsPath.resolve(root, "/escape/passwd")).isEqualTo(root.resolve("etc/passwd"));
        assertThat(RootfsPath.resolve(root, "/up/tmp")).isEqualTo(root.resolve("tmp"));
        assertThat(RootfsPath.resolve(root, "../../a/./b/")).isEqualTo(root.resolve("a/b"));
        assertThat(RootfsPath.resolve(root, "/")).isEqualTo(root);
    }

    @Test
    void symlinkLoopsAreAnError() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("/a"));

        assertThatThrownBy(() -> RootfsPath.resolve(root, "/a/x")).hasMessageContaining("too many levels");
    }
}
