package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deletions and replaced directories survive the trip through OCI layers, as umoci sees them. */
@Tag("e2e")
class WhiteoutsEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void deletedFilesStayDeletedAndReplacedDirectoriesHoldOnlyTheNewContent() throws Exception {
        Path ctx = Path.of("src/test/resources/whiteouts").toAbsolutePath();
        try (Farm farm = new Farm(dir, "w1")) {
            Path oci = dir.resolve("wh.oci.tar");
            farm.build("-t", "whiteouts:e2e", "--output", "type=oci,dest=" + oci, ctx.toString())
                    .assertOk();
            Path work = Files.createDirectories(dir.resolve("unpack"));
            Path rootfs = Images.unpackOci(oci, work, "e2e").resolve("rootfs");

            assertThat(rootfs.resolve("etc/removeme")).doesNotExist();
            assertThat(rootfs.resolve("etc/os-release"))
                    .as("a base-image file deleted by RUN")
                    .doesNotExist();
            assertThat(rootfs.resolve("etc/passwd")).exists();
            try (var list = Files.list(rootfs.resolve("data"))) {
                assertThat(list.map(p -> p.getFileName().toString()).toList()).containsExactly("new");
            }
            Path added = rootfs.resolve("data/new");
            assertThat(Files.getAttribute(added, "unix:uid", LinkOption.NOFOLLOW_LINKS))
                    .isEqualTo(1000);
            assertThat(Files.getAttribute(added, "unix:gid", LinkOption.NOFOLLOW_LINKS))
                    .isEqualTo(1000);
            assertThat((Integer) Files.getAttribute(added, "unix:mode") & 0777).isEqualTo(0640);
            Path home = rootfs.resolve("home/app");
            assertThat(Files.getAttribute(home, "unix:uid", LinkOption.NOFOLLOW_LINKS))
                    .isEqualTo(1000);
            assertThat((Integer) Files.getAttribute(home, "unix:mode") & 0777).isEqualTo(0700);
        }
    }
}
