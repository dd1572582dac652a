package dev.stagefarm.worker.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("root")
class MountsTest {

    @TempDir
    Path tmp;

    @AfterEach
    void noMountsLeft() throws IOException {
        for (MountInfo m : MountInfo.under(tmp)) {
            Mounts.unmountDetached(m.mountPoint());
        }
    }

    @Test
    void bindMountShowsSourceAndUnmountRemovesIt() throws IOException {
        Path source = Files.createDirectory(tmp.resolve("source dir"));
        Files.writeString(source.resolve("file"), "content");
        Path target = Files.createDirectory(tmp.resolve("target"));

        Mounts.mount(source.toString(), target, null, Mounts.MS_BIND, null);

        assertThat(target.resolve("file")).hasContent("content");
        assertThat(MountInfo.under(tmp)).extracting(MountInfo::mountPoint).containsExactly(target);

        Mounts.unmount(target);

        assertThat(target.resolve("file")).doesNotExist();
        assertThat(MountInfo.under(tmp)).isEmpty();
    }

    @Test
    void failuresCarryTheKernelsReason() {
        Path missing = tmp.resolve("missing");

        assertThatThrownBy(() -> Mounts.mount("tmpfs", missing, "tmpfs", 0, "size=1m"))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("No such file or directory")
                .hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> Mounts.unmount(tmp))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("umount2: Invalid argument");
    }

    @Test
    void mountDataReachesTheFilesystem() throws IOException {
        Path target = Files.createDirectory(tmp.resolve("ro"));

        Mounts.mount("tmpfs", target, "tmpfs", Mounts.MS_RDONLY, "size=1m,mode=700");

        assertThat(MountInfo.under(tmp))
                .singleElement()
                .satisfies(m -> assertThat(m.fsType()).isEqualTo("tmpfs"));
        assertThatThrownBy(() -> Files.writeString(target.resolve("x"), "x"))
                .hasMessageContaining("Read-only file system");
        Mounts.unmountDetached(target);
    }

    @Test
    void pathHandleNamesTheFileThroughProc() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("dir"));
        try (PathHandle handle = PathHandle.open(dir)) {
            assertThat(handle.procPath()).matches("/proc/self/fd/\\d+");
            assertThat(Files.readSymbolicLink(Path.of(handle.procPath()))).isEqualTo(dir);
        }
        assertThatThrownBy(() -> PathHandle.open(tmp.resolve("nope"))).isInstanceOf(NoSuchFileException.class);
    }
}
