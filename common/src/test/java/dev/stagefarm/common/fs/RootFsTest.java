package dev.stagefarm.common.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.LinuxFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("root")
class RootFsTest {

    @TempDir
    Path tmp;

    Path root;
    Path outside;
    Path sentinel;
    RootFs fs;

    @BeforeEach
    void trees() throws IOException {
        root = Files.createDirectories(tmp.resolve("rootfs"));
        outside = Files.createDirectories(tmp.resolve("outside"));
        sentinel = Files.writeString(outside.resolve("secret"), "host secret");
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/secret"), "in root");
        fs = RootFs.open(root);
    }

    @AfterEach
    void close() {
        fs.close();
    }

    @Test
    void absoluteLinksAreReRooted() throws IOException {
        Files.createSymbolicLink(root.resolve("h"), Path.of("/"));
        Files.createSymbolicLink(root.resolve("o"), outside);
        assertThat(read("h/etc/secret")).isEqualTo("in root");
        assertThat(fs.resolve("h/etc", true)).isEqualTo("etc");
        // the outside dir's host path, re-rooted, names nothing inside the root
        assertThatThrownBy(() -> read("o/secret")).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void dotDotStopsAtTheRoot() throws IOException {
        Files.createDirectories(root.resolve("a/b"));
        Files.createSymbolicLink(root.resolve("a/b/up"), Path.of("../../../../../outside"));
        assertThat(read("../../../etc/secret")).isEqualTo("in root");
        assertThatThrownBy(() -> fs.resolve("a/b/up", true)).isInstanceOf(NoSuchFileException.class);
        Files.createDirectories(root.resolve("outside"));
        assertThat(fs.resolve("a/b/up", true)).isEqualTo("outside");
    }

    @Test
    void linkLoopsFail() throws IOException {
        Files.createSymbolicLink(root.resolve("l1"), Path.of("l2"));
        Files.createSymbolicLink(root.resolve("l2"), Path.of("/l1"));
        assertThatThrownBy(() -> read("l1/x"))
                .isInstanceOf(FileSystemException.class)
                .hasMessageContaining("Too many levels of symbolic links");
    }

    @Test
    void magicLinksAreRefused() throws IOException {
        Files.createSymbolicLink(root.resolve("p"), Path.of("/proc/self/root"));
        // /proc is not in the root, so p leads nowhere; a real /proc inside it is refused as magic
        Files.createDirectories(root.resolve("proc"));
        assertThatThrownBy(() -> read("p/" + sentinel)).isInstanceOf(IOException.class);
        Path hostProc = Path.of("/proc/self/root");
        try (RootFs host = RootFs.open(Path.of("/"))) {
            assertThatThrownBy(() -> host.newInputStream(hostProc + sentinel.toString()))
                    .isInstanceOf(FileSystemException.class)
                    .hasMessageContaining("Too many levels of symbolic links");
        }
    }

    @Test
    void danglingLinkAtTheLastComponent() throws IOException {
        Files.createSymbolicLink(root.resolve("etc/dangling"), Path.of("/made/by/write"));
        Files.createDirectories(root.resolve("made/by"));
        assertThat(fs.lstat("etc/dangling")).map(FileStat::isSymlink).contains(true);
        assertThat(fs.stat("etc/dangling")).isEmpty();
        assertThat(fs.readlink("etc/dangling")).isEqualTo("/made/by/write");
        try (OutputStream out = fs.newOutputStream("etc/dangling", 0644)) {
            out.write('x');
        }
        assertThat(root.resolve("made/by/write")).hasContent("x");
        Files.createSymbolicLink(root.resolve("dir-link"), Path.of("/somewhere/deep"));
        fs.mkdirs("dir-link/sub", 0755).close();
        assertThat(root.resolve("somewhere/deep/sub")).isDirectory();
    }

    @Test
    void danglingLinkToTheHostIsCreatedInsideTheRoot() throws IOException {
        Path hostTarget = outside.resolve("planted");
        Files.createSymbolicLink(root.resolve("plant"), hostTarget);
        Files.createDirectories(root.resolve(outside.toString().substring(1)));
        try (OutputStream out = fs.newOutputStream("plant", 0644)) {
            out.write('x');
        }
        assertThat(hostTarget).doesNotExist();
        assertThat(root.resolve(hostTarget.toString().substring(1))).hasContent("x");
    }

    @Test
    void aDirectorySwappedForALinkIsFollowedInsideTheRoot() throws IOException {
        Files.createDirectories(root.resolve("d"));
        try (FileHandle before = fs.handle("d", true)) {
            Files.move(root.resolve("d"), root.resolve("d.old"));
            Files.createSymbolicLink(root.resolve("d"), outside);
            // the handle still names the directory it was opened on
            assertThat(before.stat().isDirectory()).isTrue();
            assertThat(Files.readSymbolicLink(before.procPath())).isEqualTo(root.resolve("d.old"));
        }
        assertThatThrownBy(() -> fs.newOutputStream("d/new", 0644)).isInstanceOf(NoSuchFileException.class);
        assertThat(outside.resolve("new")).doesNotExist();
    }

    @Test
    void metadataChangesNeverFollowALink() throws IOException {
        Files.createSymbolicLink(root.resolve("link"), sentinel);
        FileTime before = Files.getLastModifiedTime(sentinel);
        String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(sentinel));
        fs.chmod("link", 0777);
        fs.chown("link", 1234, 1234);
        fs.setTimes("link", 1_000_000, 0);
        assertThat(Files.getLastModifiedTime(sentinel)).isEqualTo(before);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sentinel)))
                .isEqualTo(perms);
        assertThat(Files.getAttribute(sentinel, "unix:uid")).isEqualTo(0);
        assertThat(Files.getAttribute(root.resolve("link"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(1234);
        assertThat(Files.getLastModifiedTime(root.resolve("link"), LinkOption.NOFOLLOW_LINKS)
                        .toMillis())
                .isEqualTo(1_000_000_000L);
    }

    @Test
    void filesAreCreatedListedAndChanged() throws IOException {
        fs.mkdirs("/app/./bin/", 0755).close();
        try (OutputStream out = fs.newOutputStream("/app/bin/tool", 0600)) {
            out.write("#!/bin/sh\n".getBytes(StandardCharsets.UTF_8));
        }
        fs.chmod("app/bin/tool", 0755);
        fs.setTimes("app/bin/tool", 1_700_000_000, 0);
        FileStat s = fs.stat("app/bin/tool").orElseThrow();
        assertThat(s.permissions()).isEqualTo(0755);
        assertThat(s.size()).isEqualTo(10);
        assertThat(s.mtimeSeconds()).isEqualTo(1_700_000_000L);
        assertThat(fs.list("app")).containsExactly("bin");
        assertThat(fs.resolve("app/bin/../bin/tool", true)).isEqualTo("app/bin/tool");
        assertThat(fs.hostPath("/app/bin")).isEqualTo(root.resolve("app/bin"));
        assertThat(fs.lstat("app/missing/x")).isEmpty();
        assertThat(fs.lstat("app/bin/tool/x")).isEmpty();
    }

    @Test
    void followReRootsLinksAndKeepsDanglingTargets() throws IOException {
        Files.createDirectories(root.resolve("usr/lib"));
        Files.createDirectories(root.resolve("app/sub"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("/usr/lib"));
        Files.createSymbolicLink(root.resolve("hostetc"), Path.of("/etc"));
        Files.createSymbolicLink(root.resolve("app/sub/up"), Path.of("../../../../../.."));
        Files.createSymbolicLink(root.resolve("app/sibling"), Path.of("sub"));
        Files.createSymbolicLink(root.resolve("app/nowhere"), outside.resolve("planted"));

        assertThat(fs.follow("../../../etc/passwd", true)).isEqualTo("etc/passwd");
        assertThat(fs.follow("/lib/libc.so", true)).isEqualTo("usr/lib/libc.so");
        assertThat(fs.follow("hostetc/shadow", true)).isEqualTo("etc/shadow");
        assertThat(fs.follow("app/sub/up/etc/passwd", true)).isEqualTo("etc/passwd");
        assertThat(fs.follow("app/sibling/f", true)).isEqualTo("app/sub/f");
        // a dangling link names where a write through it lands: its target, re-rooted
        assertThat(fs.follow("app/nowhere", true))
                .isEqualTo(outside.resolve("planted").toString().substring(1));
        assertThat(fs.follow("lib", false)).as("the last link left alone").isEqualTo("lib");
        assertThat(fs.follow("lib/x", false)).as("parents still followed").isEqualTo("usr/lib/x");
        assertThat(fs.follow("/", true)).isEmpty();
    }

    @Test
    void followFailsOnALinkLoop() throws IOException {
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("/a"));
        assertThatThrownBy(() -> fs.follow("a/x", true))
                .isInstanceOf(FileSystemException.class)
                .hasMessageContaining("Too many levels of symbolic links");
    }

    @Test
    void directoriesOpenedExactlyRefuseLinksOnTheWay() throws IOException {
        Files.createDirectories(root.resolve("real/sub"));
        Files.createSymbolicLink(root.resolve("via"), Path.of("real"));
        try (FileHandle d = fs.directoryExact("real/sub")) {
            assertThat(fs.pathOf(d)).isEqualTo("real/sub");
        }
        try (FileHandle d = fs.directory("via/sub")) {
            assertThat(fs.pathOf(d)).as("followed inside the root").isEqualTo("real/sub");
        }
        assertThatThrownBy(() -> fs.directoryExact("via/sub"))
                .isInstanceOf(FileSystemException.class)
                .hasMessageContaining("Too many levels of symbolic links");
        assertThatThrownBy(() -> fs.directoryExact("etc/secret"))
                .isInstanceOf(FileSystemException.class)
                .hasMessageContaining("Not a directory");
    }

    @Test
    void aFifoIsRefusedRatherThanBlockingTheReader() throws Exception {
        LinuxFiles.mknod(root.resolve("etc/passwd"), LinuxFiles.S_IFIFO, 0644, 0, 0);
        assertThatThrownBy(() -> read("/etc/passwd")).hasMessageContaining("not a regular file");
    }

    private String read(String path) throws IOException {
        try (InputStream in = fs.newInputStream(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
