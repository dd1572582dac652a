package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BuildContextSpecTest {

    @Test
    void aDirectoryOrAnImage() {
        assertThat(BuildContextSpec.parse("assets=../shared/assets"))
                .isEqualTo(new BuildContextSpec("assets", Optional.of(Path.of("../shared/assets")), Optional.empty()));
        assertThat(BuildContextSpec.parse("alpine=docker-image://docker.io/library/busybox:latest"))
                .isEqualTo(new BuildContextSpec(
                        "alpine", Optional.empty(), Optional.of("docker.io/library/busybox:latest")));
        assertThat(BuildContextSpec.parse("docker.io/library/alpine:3=docker-image://busybox")
                        .name())
                .as("an image name can be replaced, as in buildx")
                .isEqualTo("docker.io/library/alpine:3");
    }

    @Test
    void badFormsSayWhatToGive() {
        assertThatThrownBy(() -> BuildContextSpec.parse("assets"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--build-context assets: expected NAME=PATH or NAME=docker-image://REF");
        assertThatThrownBy(() -> BuildContextSpec.parse("a=docker-image://"))
                .hasMessage("--build-context a=docker-image://: docker-image:// needs an image reference");
        assertThatThrownBy(() -> BuildContextSpec.parse("a=https://example.com/x.git"))
                .hasMessage("--build-context a=https://example.com/x.git: https:// contexts are not supported;"
                        + " give a directory or docker-image://REF");
        assertThatThrownBy(() -> BuildContextSpec.parse("../x=dir"))
                .hasMessageContaining("is not a name a Dockerfile can use");
        assertThatThrownBy(() -> BuildContextSpec.parseAll(List.of("a=x", "a=y")))
                .hasMessage("--build-context a is given twice; give each name once");
    }
}
