package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerUserTest {

    @TempDir
    Path rootfs;

    @BeforeEach
    void etcFiles() throws Exception {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/passwd"), """
                root:x:0:0:root:/root:/bin/sh
                # a comment
                app:x:1000:1000:app:/home/app:/bin/sh
                svc:x:1001:1001::/:/sbin/nologin
                """);
        Files.writeString(rootfs.resolve("etc/group"), """
                root:x:0:
                app:x:1000:
                docker:x:2000:svc,app
                audio:x:29:app
                """);
    }

    @Test
    void resolvesTheForms() throws Exception {
        assertThat(ContainerUser.resolve(rootfs, "")).isEqualTo(new ContainerUser(0, 0, List.of(), "/root"));
        assertThat(ContainerUser.resolve(rootfs, "app"))
                .isEqualTo(new ContainerUser(1000, 1000, List.of(2000, 29), "/home/app"));
        assertThat(ContainerUser.resolve(rootfs, "1000"))
                .isEqualTo(new ContainerUser(1000, 1000, List.of(2000, 29), "/home/app"));
        assertThat(ContainerUser.resolve(rootfs, "app:docker"))
                .isEqualTo(new ContainerUser(1000, 2000, List.of(), "/home/app"));
        assertThat(ContainerUser.resolve(rootfs, "app:5"))
                .isEqualTo(new ContainerUser(1000, 5, List.of(), "/home/app"));
        // a numeric uid needs no passwd entry
        assertThat(ContainerUser.resolve(rootfs, "4242")).isEqualTo(new ContainerUser(4242, 0, List.of(), "/"));
        assertThat(ContainerUser.resolve(rootfs, "4242:4343")).isEqualTo(new ContainerUser(4242, 4343, List.of(), "/"));
    }

    @Test
    void unknownNamesAreClearErrors() {
        assertThatThrownBy(() -> ContainerUser.resolve(rootfs, "nobodyx"))
                .isInstanceOf(ExecException.class)
                .hasMessage("unable to find user nobodyx: no matching entries in passwd file");
        assertThatThrownBy(() -> ContainerUser.resolve(rootfs, "app:wheelx"))
                .isInstanceOf(ExecException.class)
                .hasMessage("unable to find group wheelx: no matching entries in group file");
        assertThatThrownBy(() -> ContainerUser.resolve(rootfs, "99999999999"))
                .isInstanceOf(ExecException.class)
                .hasMessageContaining("out of range");
    }

    @Test
    void withoutPasswdOnlyRootAndNumericIdsWork() throws Exception {
        Path empty = Files.createDirectory(rootfs.resolve("empty"));

        assertThat(ContainerUser.resolve(empty, "")).isEqualTo(new ContainerUser(0, 0, List.of(), "/"));
        assertThat(ContainerUser.resolve(empty, "10:20")).isEqualTo(new ContainerUser(10, 20, List.of(), "/"));
        assertThatThrownBy(() -> ContainerUser.resolve(empty, "app")).hasMessageContaining("unable to find user app");
    }

    @Test
    void passwdIsReadInsideTheRootfsEvenThroughAnAbsoluteSymlink() throws Exception {
        Path image = Files.createDirectories(rootfs.resolve("image/etc"));
        Files.createDirectories(rootfs.resolve("image/usr/lib"));
        Files.writeString(rootfs.resolve("image/usr/lib/passwd"), "builder:x:1500:1500::/build:/bin/sh\n");
        Files.createSymbolicLink(image.resolve("passwd"), Path.of("/usr/lib/passwd"));

        assertThat(ContainerUser.resolve(rootfs.resolve("image"), "builder").home())
                .isEqualTo("/build");
    }
}
