package dev.stagefarm.oci.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.testing.FileBlobSource;
import dev.stagefarm.oci.testing.TestImages;
import dev.stagefarm.oci.testing.Tools;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archives are checked by the real tools that read them: umoci (OCI layout) and skopeo (docker-archive). */
@Tag("root")
class ImageArchiveTest {

    @TempDir
    Path tmp;

    private final List<ImageReference> tags = List.of(ImageReference.parse("stagefarm/hello:v1"));

    @Test
    void ociLayoutTarUnpacksWithUmoci() throws Exception {
        TestImages img = TestImages.hello(tmp, "hello from oci\n", "amd64", false);
        Path tar = tmp.resolve("image-oci.tar");
        try (OutputStream out = Files.newOutputStream(tar)) {
            new OciLayoutWriter().write(img.blobs(), img.manifest(), tags, out);
        }

        Path layout = Files.createDirectories(tmp.resolve("layout"));
        Tools.run(List.of("/usr/bin/tar", "-xf", tar.toString(), "-C", layout.toString()));
        assertThat(Files.readString(layout.resolve("index.json")))
                .contains("\"org.opencontainers.image.ref.name\":\"v1\"")
                .contains("\"io.containerd.image.name\":\"docker.io/stagefarm/hello:v1\"");
        Tools.run(List.of(
                "/usr/bin/umoci",
                "unpack",
                "--image",
                layout + ":v1",
                tmp.resolve("bundle").toString()));

        assertThat(tmp.resolve("bundle/rootfs/hello.txt")).hasContent("hello from oci");
        String inspected = Tools.run(List.of("/usr/bin/skopeo", "inspect", "--config", "oci-archive:" + tar + ":v1"));
        assertThat(inspected).contains("/hello.txt");
    }

    @Test
    void dockerArchiveIsReadBySkopeo() throws Exception {
        TestImages img = TestImages.hello(tmp, "hello from docker\n", "amd64", true);
        Path tar = tmp.resolve("image-docker.tar");
        try (OutputStream out = Files.newOutputStream(tar)) {
            new DockerArchiveWriter().write(img.blobs(), img.manifest(), tags, out);
        }

        Tools.run(List.of(
                "/usr/bin/skopeo",
                "--insecure-policy",
                "copy",
                "docker-archive:" + tar,
                "oci:" + tmp.resolve("copied") + ":v1"));
        Tools.run(List.of(
                "/usr/bin/umoci",
                "unpack",
                "--image",
                tmp.resolve("copied") + ":v1",
                tmp.resolve("bundle").toString()));

        assertThat(tmp.resolve("bundle/rootfs/hello.txt")).hasContent("hello from docker");
        assertThat(Tools.run(List.of("/usr/bin/tar", "-xOf", tar.toString(), "manifest.json")))
                .contains("\"RepoTags\":[\"stagefarm/hello:v1\"]");
    }

    @Test
    void aCorruptBlobStoreFailsTheExport() throws Exception {
        TestImages img = TestImages.hello(tmp, "x", "amd64", false);
        Files.writeString(img.layer().file(), "tampered");
        FileBlobSource blobs = img.blobs();

        assertThatThrownBy(
                        () -> new OciLayoutWriter().write(blobs, img.manifest(), tags, OutputStream.nullOutputStream()))
                .hasMessageContaining("corrupt");
    }
}
