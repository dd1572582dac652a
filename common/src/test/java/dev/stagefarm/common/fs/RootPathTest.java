package dev.stagefarm.common.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootPathTest {

    @TempDir
    Path tmp;

    Path root;

    @BeforeEach
    void rootfs() throws IOException {
        root = Files.createDirectories(tmp.resolve("rootfs"));
        Files.createDirectories(root.resolve("usr/lib"));
        Files.createDirectories(root.resolve("app/sub"));
    }

    @Test
    void dotDotStopsAtTheRoot() throws IOException {
        assertThat(RootPath.resolve(root, "../../../etc/passwd")).isEqualTo(root.resolve("etc/passwd"));
        assertThat(RootPath.resolve(root, "/app/../../../etc")).isEqualTo(root.resolve("etc"));
    }

    @Test
    void anAbsoluteLinkIsReRooted() throws IOException {
        Files.createSymbolicLink(root.resolve("lib"), Path.of("/usr/lib"));
        Files.createSymbolicLink(root.resolve("hostetc"), Path.of("/etc"));

        assertThat(RootPath.resolve(root, "/lib/libc.so")).isEqualTo(root.resolve("usr/lib/libc.so"));
        assertThat(RootPath.resolve(root, "hostetc/shadow")).isEqualTo(root.resolve("etc/shadow"));
    }

    @Test
    void aRelativeLinkCannotClimbOut() throws IOException {
        Files.createSymbolicLink(root.resolve("app/sub/up"), Path.of("../../../../../.."));
        assertThat(RootPath.resolve(root, "app/sub/up/etc/passwd")).isEqualTo(root.resolve("etc/passwd"));
        Files.createSymbolicLink(root.resolve("app/sibling"), Path.of("sub"));
        assertThat(RootPath.resolve(root, "app/sibling/f")).isEqualTo(root.resolve("app/sub/f"));
    }

    @Test
    void noFollowLeavesTheLastLinkAlone() throws IOException {
        Files.createSymbolicLink(root.resolve("lib"), Path.of("/usr/lib"));
        assertThat(RootPath.resolveNoFollow(root, "lib")).isEqualTo(root.resolve("lib"));
        assertThat(RootPath.resolve(root, "lib")).isEqualTo(root.resolve("usr/lib"));
        assertThat(RootPath.resolveNoFollow(root, "lib/x"))
                .as("parents are still followed")
                .isEqualTo(root.resolve("usr/lib/x"));
    }

    @Test
    void aLinkLoopIsAnError() throws IOException {
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("/a"));
        assertThatThrownBy(() -> RootPath.resolve(root, "a/x"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("too many levels of symbolic links");
    }
}
