package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OutputSpecTest {

    @Test
    void dockerArchive() {
        assertThat(OutputSpec.parse("type=docker,dest=out/image.tar"))
                .isEqualTo(new OutputSpec(
                        OutputSpec.Type.DOCKER, Optional.of(Path.of("out/image.tar")), Optional.empty(), false));
    }

    @Test
    void ociLayoutWithAName() {
        assertThat(OutputSpec.parse("type=oci, dest=web.tar, name=example.com/web:1"))
                .isEqualTo(new OutputSpec(
                        OutputSpec.Type.OCI, Optional.of(Path.of("web.tar")), Optional.of("example.com/web:1"), false));
    }

    @Test
    void imagePushesOnlyWhenAsked() {
        assertThat(OutputSpec.parse("type=image,name=localhost:5000/web:latest,push=true"))
                .isEqualTo(new OutputSpec(
                        OutputSpec.Type.IMAGE, Optional.empty(), Optional.of("localhost:5000/web:latest"), true));
        assertThat(OutputSpec.parse("type=image,name=web").push()).isFalse();
        assertThat(OutputSpec.parse("type=registry,name=localhost:5000/web").push())
                .as("buildx's type=registry is image with push=true")
                .isTrue();
    }

    @Test
    void archivesNeedADestination() {
        assertThatThrownBy(() -> OutputSpec.parse("type=docker"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--output type=docker: this type needs dest=PATH");
        assertThatThrownBy(() -> OutputSpec.parse("type=oci,name=web"))
                .hasMessage("--output type=oci,name=web: this type needs dest=PATH");
    }

    @Test
    void anImageNeedsAName() {
        assertThatThrownBy(() -> OutputSpec.parse("type=image,push=true"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--output type=image,push=true: type=image needs name=REF");
    }

    @Test
    void unknownTypesListTheSupportedOnes() {
        assertThatThrownBy(() -> OutputSpec.parse("type=tar,dest=x.tar"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--output type=tar,dest=x.tar: unknown type \"tar\" (supported: docker, oci, image)");
        assertThatThrownBy(() -> OutputSpec.parse("dest=x.tar")).hasMessageContaining("unknown type \"\"");
    }

    @Test
    void theLocalDirectoryShorthandIsRefusedWithTheExplicitForm() {
        assertThatThrownBy(() -> OutputSpec.parse("./out"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--output ./out: expected key=value pairs such as type=docker,dest=image.tar");
    }
}
