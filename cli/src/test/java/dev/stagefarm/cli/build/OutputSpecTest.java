package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.assertj.core.groups.Tuple;
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
    void archivesNeedADestinationButADockerImageWithoutOneIsLoaded() {
        assertThatThrownBy(() -> OutputSpec.parse("type=oci,name=web"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--output type=oci,name=web: this type needs dest=PATH");
        assertThatThrownBy(() -> OutputSpec.parse("type=local"))
                .hasMessage("--output type=local: this type needs dest=PATH");
        assertThat(OutputSpec.parse("type=docker").load()).isTrue();
        assertThat(OutputSpec.parse("type=docker,dest=x.tar").load()).isFalse();
    }

    @Test
    void localAndTarExportTheFilesystem() {
        assertThat(OutputSpec.parse("type=local,dest=out"))
                .isEqualTo(new OutputSpec(OutputSpec.Type.LOCAL, Optional.of(Path.of("out")), Optional.empty(), false));
        assertThat(OutputSpec.parse("type=tar,dest=fs.tar").type()).isEqualTo(OutputSpec.Type.TAR);
    }

    @Test
    void pushAndLoadAreShorthands() {
        assertThat(OutputSpec.resolve(List.of(), List.of("r:5000/a:1", "r:5000/a:latest"), true, false))
                .containsExactly(new OutputSpec(
                        OutputSpec.Type.IMAGE, Optional.empty(), Optional.of("r:5000/a:1,r:5000/a:latest"), true));
        assertThat(OutputSpec.resolve(List.of("type=image,name=r/b"), List.of("r/a"), true, false))
                .as("--push turns an image output's push on instead of adding one")
                .containsExactly(new OutputSpec(OutputSpec.Type.IMAGE, Optional.empty(), Optional.of("r/b"), true));
        assertThat(OutputSpec.resolve(List.of("type=local,dest=d"), List.of(), false, true))
                .extracting(OutputSpec::type, OutputSpec::load)
                .containsExactly(Tuple.tuple(OutputSpec.Type.LOCAL, false), Tuple.tuple(OutputSpec.Type.DOCKER, true));
        assertThat(OutputSpec.resolve(List.of("type=docker"), List.of(), false, true))
                .as("--load beside -o type=docker loads once")
                .hasSize(1);
    }

    @Test
    void aPushNeedsAName() {
        assertThatThrownBy(() -> OutputSpec.resolve(List.of(), List.of(), true, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--push needs a name to push to: add -t REGISTRY/REPOSITORY:TAG");
        assertThatThrownBy(() -> OutputSpec.resolve(List.of("type=image,push=true"), List.of(), false, false))
                .hasMessage("--output type=image needs name=REF or a -t name");
    }

    @Test
    void unknownTypesListTheSupportedOnes() {
        assertThatThrownBy(() -> OutputSpec.parse("type=cacheonly"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--output type=cacheonly: unknown type \"cacheonly\""
                        + " (supported: docker, oci, image, registry, local, tar)");
        assertThatThrownBy(() -> OutputSpec.parse("dest=x.tar")).hasMessageContaining("unknown type \"\"");
    }

    @Test
    void theLocalDirectoryShorthandIsRefusedWithTheExplicitForm() {
        assertThatThrownBy(() -> OutputSpec.parse("./out"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--output ./out: expected key=value pairs such as type=local,dest=./out");
    }
}
