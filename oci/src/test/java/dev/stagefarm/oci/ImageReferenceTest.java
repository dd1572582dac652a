package dev.stagefarm.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageReferenceTest {

    private static final String D = "sha256:abababababababababababababababababababababababababababababababab";

    @ParameterizedTest
    @CsvSource(
            nullValues = "-",
            value = {
                // input, registry, repository, tag, digest, canonical
                "golang:latest, docker.io, library/golang, latest, -, docker.io/library/golang:latest",
                "busybox, docker.io, library/busybox, latest, -, docker.io/library/busybox:latest",
                "user/app:1.2, docker.io, user/app, 1.2, -, docker.io/user/app:1.2",
                "docker.io/library/debian:12, docker.io, library/debian, 12, -, docker.io/library/debian:12",
                "index.docker.io/library/debian, docker.io, library/debian, latest, -, docker.io/library/debian:latest",
                "127.0.0.1:5000/library/busybox:latest, 127.0.0.1:5000, library/busybox, latest, -, 127.0.0.1:5000/library/busybox:latest",
                "localhost:5000/x, localhost:5000, x, latest, -, localhost:5000/x:latest",
                "localhost/x, localhost, x, latest, -, localhost/x:latest",
                "ghcr.io/org/team/tool:v1, ghcr.io, org/team/tool, v1, -, ghcr.io/org/team/tool:v1",
                "busybox@" + D + ", docker.io, library/busybox, -, " + D + ", docker.io/library/busybox@" + D,
                "busybox:1.36@" + D + ", docker.io, library/busybox, 1.36, " + D + ", docker.io/library/busybox:1.36@"
                        + D,
                "127.0.0.1:5000/a/b@" + D + ", 127.0.0.1:5000, a/b, -, " + D + ", 127.0.0.1:5000/a/b@" + D,
            })
    void parses(String input, String registry, String repository, String tag, String digest, String canonical) {
        ImageReference r = ImageReference.parse(input);

        assertThat(r.registry()).isEqualTo(registry);
        assertThat(r.repository()).isEqualTo(repository);
        assertThat(r.tag()).isEqualTo(tag);
        assertThat(r.digest()).isEqualTo(digest == null ? null : Digest.parse(digest));
        assertThat(r).hasToString(canonical);
        assertThat(ImageReference.parse(r.toString())).isEqualTo(r);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "  ",
                "Busybox",
                "busybox:",
                "busybox:-bad",
                "busybox@sha256:123",
                "a//b",
                "/busybox",
                "busybox@md5:" + "ab",
                "host:5000/",
                "-x/y",
                "busy box"
            })
    void rejectsWithTheReason(String input) {
        assertThatThrownBy(() -> ImageReference.parse(input))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("image reference");
    }

    @Test
    void familiarFormAndWithers() {
        ImageReference r = ImageReference.parse("golang");
        assertThat(r.toFamiliarString()).isEqualTo("golang:latest");
        assertThat(ImageReference.parse("127.0.0.1:5000/x:1").toFamiliarString())
                .isEqualTo("127.0.0.1:5000/x:1");

        ImageReference pinned = r.withDigest(Digest.parse(D));
        assertThat(pinned).hasToString("docker.io/library/golang:latest@" + D);
        assertThat(pinned.manifestReference()).isEqualTo(D);
        assertThat(r.manifestReference()).isEqualTo("latest");
    }
}
