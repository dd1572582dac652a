package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.DockerfileParser;
import dev.stagefarm.dockerfile.StageGraph;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.BaseImage;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CopySource;
import dev.stagefarm.proto.farm.NamedContext;
import dev.stagefarm.proto.farm.NamedContextSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code --build-context}: what a name stands for in FROM and COPY --from, as BuildKit reads it. */
class NamedContextsTest {

    private static final String DOCKERFILE = """
            FROM golang AS builder
            RUN go build -o /app .

            FROM builder AS test
            RUN go test ./...

            FROM alpine
            COPY --from=builder /app /app
            COPY --from=assets logo.png /srv/
            """;

    private static final String ASSETS = "sha256:" + "a".repeat(64);

    private static NamedContexts of(NamedContext... contexts) throws Exception {
        ContextManifest assets = ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder().setPath("logo.png").setDigest("sha256:" + "1".repeat(64)))
                .build();
        return NamedContexts.of(List.of(contexts), digest -> {
            assertThat(digest).isEqualTo(ASSETS);
            return assets;
        });
    }

    private static NamedContext image(String name, String ref) {
        return NamedContext.newBuilder().setName(name).setImage(ref).build();
    }

    private static NamedContext directory(String name) {
        return NamedContext.newBuilder().setName(name).setContextDigest(ASSETS).build();
    }

    @Test
    void anImageContextReplacesTheStageOfThatNameWhichIsThenNeverBuilt() throws Exception {
        NamedContexts named = of(image("builder", "registry.example/prebuilt:1"));
        Dockerfile df = named.replaceStages(DockerfileParser.parse(DOCKERFILE, "Dockerfile"), Optional.empty());
        StageGraph graph = StageGraph.build(df, Optional.empty());

        assertThat(graph.reachable()).containsExactly(2);
        assertThat(graph.externalImages(2)).contains("builder");
        List<String> resolved = new ArrayList<>();
        BaseImageResolver bases = named.resolver(image -> {
            resolved.add(image);
            return new StageBase(
                    "k", BaseImage.getDefaultInstance(), ImageConfigEditor.scratch(), List.of(), image, -1);
        });
        bases.resolve("builder");
        bases.resolve("alpine");
        assertThat(resolved).containsExactly("registry.example/prebuilt:1", "alpine");
    }

    @Test
    void theTargetStageKeepsItsNameAndAnImageNameMatchesNormalized() throws Exception {
        NamedContexts named = of(image("test", "x/y:1"), image("docker.io/library/alpine:latest", "busybox"));
        Dockerfile df = named.replaceStages(DockerfileParser.parse(DOCKERFILE, "Dockerfile"), Optional.of("test"));
        assertThat(StageGraph.build(df, Optional.of("test")).reachable()).containsExactly(0, 1);

        List<String> resolved = new ArrayList<>();
        named.resolver(image -> {
                    resolved.add(image);
                    return null;
                })
                .resolve("alpine");
        assertThat(resolved).containsExactly("busybox");
    }

    @Test
    void aDirectoryContextIsCopiedFromAndWithoutItsLayerCannotBeABase() throws Exception {
        NamedContexts named = of(directory("assets"));
        ContextIndex context = new ContextIndex(ContextManifest.getDefaultInstance(), named);

        assertThat(context.copyContext("assets").orElseThrow().select("logo.png"))
                .extracting(ContextEntry::getPath)
                .containsExactly("logo.png");
        assertThat(context.copyContext(null)).contains(context);
        assertThat(context.copyContext("builder")).isEmpty();
        assertThat(context.copySource("assets"))
                .isEqualTo(CopySource.newBuilder()
                        .setNamedContext(NamedContextSource.newBuilder()
                                .setName("assets")
                                .setContextDigest(ASSETS))
                        .build());
        assertThat(context.copySource(null).getContext()).isTrue();
        assertThatThrownBy(() -> context.copyContext("assets").orElseThrow().select("../../etc/passwd"))
                .isInstanceOf(ContextIndex.MissingSourceException.class)
                .hasMessageStartingWith("\"../../etc/passwd\" not found in the build context assets");
        assertThatThrownBy(() -> named.resolver(image -> null).resolve("assets"))
                .hasMessage("--build-context assets is a directory: only COPY --from=assets can use it yet"
                        + " (FROM and RUN --mount=from= need docker-image://REF)");
    }

    @Test
    void aDirectoryAStageStartsFromIsItsOneLayer() throws Exception {
        Layer layer = Layer.newBuilder()
                .setDigest("sha256:" + "c".repeat(64))
                .setDiffId("sha256:" + "d".repeat(64))
                .build();
        NamedContexts named =
                of(directory("assets").toBuilder().setBaseLayer(layer).build());
        StageBase base = named.resolver(image -> {
                    throw new AssertionError("no registry for a directory context");
                })
                .resolve("assets");
        assertThat(base.image().getLayersList()).containsExactly(layer);
        assertThat(base.image().getRegistryRepository())
                .as("fetched from the cache")
                .isEmpty();
        assertThat(base.description()).isEqualTo("context assets");
        assertThat(base.key())
                .isNotEqualTo(of(directory("assets").toBuilder()
                                .setBaseLayer(layer.toBuilder().setDiffId("sha256:" + "e".repeat(64)))
                                .build())
                        .resolver(image -> null)
                        .resolve("assets")
                        .key());
    }
}
