package dev.stagefarm.common.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs as root (CI and developer machines are root): whiteouts and trusted.* xattrs need it. */
@Tag("root")
class LinuxFilesTest {

    @TempDir
    Path dir;

    @Test
    void whiteoutIsACharDeviceZeroZero() throws Exception {
        Path wh = dir.resolve("gone");
        LinuxFiles.mknodWhiteout(wh);

        assertThat(LinuxFiles.isWhiteout(wh)).isTrue();
        assertThat(Files.readAttributes(wh, "unix:rdev", LinkOption.NOFOLLOW_LINKS)
                        .get("rdev"))
                .isEqualTo(0L);
        Files.writeString(dir.resolve("plain"), "x");
        assertThat(LinuxFiles.isWhiteout(dir.resolve("plain"))).isFalse();
        assertThatThrownBy(() -> LinuxFiles.mknodWhiteout(wh))
                .isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining("File exists");
    }

    @Test
    void deviceNumbersRoundTrip() throws Exception {
        Path null2 = dir.resolve("null2");
        LinuxFiles.mknod(null2, LinuxFiles.S_IFCHR, 0666, 1, 3);
        long rdev = (Long) Files.getAttribute(null2, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
        assertThat(LinuxFiles.major(rdev)).isEqualTo(1);
        assertThat(LinuxFiles.minor(rdev)).isEqualTo(3);
        assertThat(LinuxFiles.makedev(259, 70000)).isEqualTo(makedevReference(259, 70000));
    }

    @Test
    void opaqueAndXattrs() throws Exception {
        Path d = Files.createDirectory(dir.resolve("d"));
        assertThat(LinuxFiles.isOpaque(d)).isFalse();
        LinuxFiles.setOpaque(d);
        assertThat(LinuxFiles.isOpaque(d)).isTrue();

        LinuxFiles.setXattr(d, "user.note", "hello".getBytes(StandardCharsets.UTF_8));
        assertThat(LinuxFiles.getXattr(d, "user.note"))
                .hasValueSatisfying(v -> assertThat(v).asString().isEqualTo("hello"));
        assertThat(LinuxFiles.getXattr(d, "user.none")).isEmpty();
        assertThat(LinuxFiles.listXattr(d)).contains("user.note", LinuxFiles.OVERLAY_OPAQUE_XATTR);
    }

    @Test
    void noFollowVariantsActOnTheLinkItself() throws Exception {
        Path target = Files.writeString(dir.resolve("target"), "t");
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("target"));

        LinuxFiles.lsetXattr(link, "trusted.mark", new byte[] {0, 1, 2});
        assertThat(LinuxFiles.lgetXattr(link, "trusted.mark"))
                .hasValueSatisfying(v -> assertThat(v).containsExactly(0, 1, 2));
        assertThat(LinuxFiles.getXattr(link, "trusted.mark")).isEmpty();
        assertThat(LinuxFiles.llistXattr(link)).containsExactly("trusted.mark");

        LinuxFiles.lchown(link, 1234, 5678);
        assertThat(Files.getAttribute(link, "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(1234);
        assertThat(Files.getAttribute(link, "unix:gid", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(5678);
        assertThat(Files.getAttribute(target, "unix:uid")).isEqualTo(0);

        LinuxFiles.utimensNoFollow(link, 1_000_000_000L, 5);
        assertThat(Files.getLastModifiedTime(link, LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(FileTime.from(Instant.ofEpochSecond(1_000_000_000L, 5)));
        assertThat(Files.getLastModifiedTime(target).toInstant()).isAfter(Instant.ofEpochSecond(1_000_000_000L, 5));
    }

    @Test
    void errorsCarryTheKernelsText() {
        assertThatThrownBy(() -> LinuxFiles.lchown(dir.resolve("missing"), 0, 0))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("No such file or directory");
        assertThatThrownBy(() -> LinuxFiles.setXattr(dir, "bogus.namespace", new byte[1]))
                .isInstanceOf(FileSystemException.class)
                .hasMessageContaining("lsetxattr".substring(1));
    }

    private static long makedevReference(long major, long minor) {
        return ((major & 0xfffff000L) << 32)
                | ((major & 0xfffL) << 8)
                | ((minor & 0xffffff00L) << 12)
                | (minor & 0xffL);
    }
}
