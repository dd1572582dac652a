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
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Operations by name in a directory's descriptor: none of them follows a link to the host. */
@Tag("root")
class FileHandleTest {

    @TempDir
    Path tmp;

    Path dirPath;
    Path outside;
    Path hostFile;
    Map<String, Object> hostFileBefore;
    RootFs fs;
    FileHandle dir;

    @BeforeEach
    void trees() throws IOException {
        dirPath = Files.createDirectories(tmp.resolve("root/d"));
        outside = Files.createDirectories(tmp.resolve("outside"));
        hostFile = Files.writeString(outside.resolve("secret"), "host secret");
        hostFileBefore = Files.readAttributes(hostFile, "unix:*", LinkOption.NOFOLLOW_LINKS);
        Files.createSymbolicLink(dirPath.resolve("to-host-file"), hostFile);
        Files.createSymbolicLink(dirPath.resolve("to-host-dir"), outside);
        fs = RootFs.open(dirPath.getParent());
        dir = fs.directory("d");
    }

    @AfterEach
    void theHostIsUntouched() throws IOException {
        dir.close();
        fs.close();
        try (var s = Files.list(outside)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("secret");
        }
        assertThat(hostFile).hasContent("host secret");
        Map<String, Object> now = Files.readAttributes(hostFile, "unix:*", LinkOption.NOFOLLOW_LINKS);
        for (String key : new String[] {"mode", "uid", "gid", "lastModifiedTime"}) {
            assertThat(now.get(key)).as(key).isEqualTo(hostFileBefore.get(key));
        }
        assertThat(LinuxFiles.lgetXattr(hostFile, "user.planted")).isEmpty();
    }

    @Test
    void metadataByNameChangesTheLinkNeverItsTarget() throws IOException {
        dir.chown("to-host-file", 4321, 4321);
        dir.chmod("to-host-file", 0777);
        dir.setTimes("to-host-file", 1_000_000, 0);

        assertThat(Files.getAttribute(dirPath.resolve("to-host-file"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(4321);
        assertThat(Files.getLastModifiedTime(dirPath.resolve("to-host-file"), LinkOption.NOFOLLOW_LINKS)
                        .toMillis())
                .isEqualTo(1_000_000_000L);
        assertThat(dir.readlink("to-host-file")).isEqualTo(hostFile.toString());
    }

    @Test
    void xattrsByNameLandOnTheEntryItself() throws IOException {
        Files.writeString(dirPath.resolve("f"), "in dirPath");
        dir.setXattr("f", "user.planted", "yes".getBytes(StandardCharsets.UTF_8));
        assertThat(LinuxFiles.lgetXattr(dirPath.resolve("f"), "user.planted"))
                .hasValueSatisfying(
                        v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("yes"));
        // trusted.* may be set on a link itself (user.* may not, by the kernel's rule): never on its target
        dir.setXattr("to-host-file", "trusted.planted", "yes".getBytes(StandardCharsets.UTF_8));
        assertThat(LinuxFiles.lgetXattr(dirPath.resolve("to-host-file"), "trusted.planted"))
                .isPresent();
        assertThat(LinuxFiles.getXattr(hostFile, "trusted.planted")).isEmpty();
        try (FileHandle self = fs.directory("d")) {
            self.setXattr(LinuxFiles.OVERLAY_OPAQUE_XATTR, new byte[] {'y'});
        }
        assertThat(LinuxFiles.isOpaque(dirPath)).isTrue();
    }

    @Test
    void childDirRefusesALinkEvenToADirectory() throws IOException {
        Files.createDirectories(dirPath.resolve("sub"));
        try (FileHandle sub = dir.childDir("sub")) {
            assertThat(fs.pathOf(sub)).isEqualTo("d/sub");
        }
        assertThatThrownBy(() -> dir.childDir("to-host-dir")).isInstanceOf(FileSystemException.class);
        assertThatThrownBy(() -> dir.childDir("../d")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> dir.newOutputStream("to-host-file", 0644)).isInstanceOf(FileSystemException.class);
    }

    @Test
    void devicesFifosAndHardLinksAreMadeByName() throws IOException {
        dir.mknod("null", LinuxFiles.S_IFCHR, 0666, 1, 3);
        dir.mknod("fifo", LinuxFiles.S_IFIFO, 0600, 0, 0);
        FileStat dev = dir.childStat("null").orElseThrow();
        assertThat(dev.type()).isEqualTo(LinuxFiles.S_IFCHR);
        assertThat(LinuxFiles.major(dev.rdev())).isEqualTo(1);
        assertThat(LinuxFiles.minor(dev.rdev())).isEqualTo(3);
        assertThat(dir.childStat("fifo").orElseThrow().type()).isEqualTo(LinuxFiles.S_IFIFO);
        try (FileHandle fifo = dir.child("fifo")) {
            assertThatThrownBy(fifo::newInputStream).hasMessageContaining("not a regular file");
        }

        try (OutputStream out = dir.newOutputStream("a", 0644)) {
            out.write("one inode".getBytes(StandardCharsets.UTF_8));
        }
        try (FileHandle a = dir.child("a")) {
            dir.link("b", a);
            try (InputStream in = a.newInputStream()) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                        .isEqualTo("one inode");
            }
        }
        assertThat(dir.childStat("b").orElseThrow().ino())
                .isEqualTo(dir.childStat("a").orElseThrow().ino());
        assertThat(dir.childStat("a").orElseThrow().nlink()).isEqualTo(2);
    }
}
