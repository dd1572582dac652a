package dev.stagefarm.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StageGraphTest {

    static Dockerfile parse(String text) throws DockerfileException {
        return DockerfileParser.parse(text, "Dockerfile");
    }

    @Test
    void exampleBuildsBuilderThenRuntime() throws Exception {
        StageGraph graph = StageGraph.build(parse(DockerfileParserTest.EXAMPLE), Optional.empty());
        assertThat(graph.target()).isEqualTo(1);
        assertThat(graph.reachable()).containsExactly(0, 1);
        assertThat(graph.dependencies(1)).containsExactly(0);
        assertThat(graph.dependencies(0)).isEmpty();
        assertThat(graph.baseStage(1)).isEmpty();
        assertThat(graph.baseImage(1)).contains("alpine:latest");
        assertThat(graph.baseImage(0)).contains("golang:latest");
        assertThat(graph.pathsCopiedFrom(0)).containsExactly("/app/main");
        assertThat(graph.pathsCopiedFrom(1)).isEmpty();
        assertThat(graph.copiedPaths()).isEqualTo(Map.of(0, Set.of("/app/main")));
    }

    /**
     * Each COPY --from gets its own list of sources, expanded as its stage's planner expands them:
     * with an ARG only that stage declares (given by --build-arg), and with its ENV.
     */
    @Test
    void eachCopyFromListsItsSourcesExpandedInItsOwnStage() throws Exception {
        Dockerfile df = parse("""
                FROM busybox AS builder
                RUN mkdir -p /out
                FROM busybox
                ARG TARGET=linux
                ENV OUT=/out
                COPY --from=builder ${OUT}/${TARGET}/app /app
                COPY --from=builder /etc/a /etc/b /etc/
                COPY --from=builder ${OUT}/${TARGET}/app /again
                """);

        StageGraph byDefault = StageGraph.build(df, Optional.empty());
        StageGraph given = StageGraph.build(df, Optional.empty(), Map.of("TARGET", "arm"));

        assertThat(byDefault.copySourcesFrom(0))
                .containsExactly(List.of("/out/linux/app"), List.of("/etc/a", "/etc/b"), List.of("/out/linux/app"));
        assertThat(given.copySourcesFrom(0)).first().isEqualTo(List.of("/out/arm/app"));
        assertThat(given.copySourcesFrom(1)).isEmpty();
    }

    @Test
    void aStageOnlyMountedFromHandsOverItsLayersAndOneOnlyCopiedFromDoesNot() throws Exception {
        StageGraph graph = StageGraph.build(parse("""
                        FROM busybox AS made
                        RUN echo made > /made.txt

                        FROM busybox AS copied
                        RUN echo copied > /copied.txt

                        FROM busybox
                        RUN --mount=type=bind,from=made,source=/made.txt,target=/m cat /m
                        COPY --from=copied /copied.txt /
                        """), Optional.empty());
        // a mount is served from the mounted stage's snapshots, a copy from an artifact
        assertThat(graph.isBuiltOrMountedFrom(0)).isTrue();
        assertThat(graph.isBuiltOrMountedFrom(1)).isFalse();
        assertThat(graph.isBuiltOrMountedFrom(2)).isFalse();
        assertThat(graph.pathsCopiedFrom(0)).containsExactly("/made.txt");
    }

    static final String MULTI = """
            ARG BASE=alpine:3.20
            FROM ${BASE} AS base
            RUN apk add curl

            FROM base AS deps
            RUN echo deps > /deps

            FROM golang AS broken
            COPY --from=nowhere-later /x /y
            COPY --from=7 /x /y

            FROM base AS tools
            COPY --from=deps /deps /opt/deps

            FROM scratch AS final
            COPY --from=tools /opt/deps /usr/bin/tool /
            COPY --from=1 /deps /deps
            COPY --from=busybox:1.36 /bin/busybox /bin/
            RUN --mount=type=bind,from=base,source=/etc,target=/base-etc true

            FROM final AS later
            """;

    @Test
    void onlyStagesTheTargetNeedsAreReachableInDependencyOrder() throws Exception {
        StageGraph graph = StageGraph.build(parse(MULTI), Optional.of("FINAL"));
        assertThat(graph.target()).isEqualTo(4);
        // "broken" (2) and "later" (5) are not needed: the bad --from in "broken" is never checked
        assertThat(graph.reachable()).containsExactly(0, 1, 3, 4);
        assertThat(graph.isReachable(2)).isFalse();
        assertThat(graph.dependencies(4)).containsExactlyInAnyOrder(0, 1, 3);
        assertThat(graph.dependencies(3)).containsExactlyInAnyOrder(0, 1);
        assertThat(graph.baseStage(3)).contains(0);
        assertThat(graph.baseStage(1)).contains(0);
        assertThat(graph.baseStage(0)).isEmpty();
        // whose layers a stage of this build takes: "later" (5), built FROM final, is not built
        assertThat(graph.isBuiltOrMountedFrom(0)).isTrue();
        assertThat(graph.isBuiltOrMountedFrom(3)).isFalse();
        assertThat(graph.isBuiltOrMountedFrom(4)).isFalse();
        assertThat(graph.baseImage(0)).contains("alpine:3.20");
        assertThat(graph.baseImage(4)).contains("scratch");
        assertThat(graph.externalImages(4)).containsExactly("busybox:1.36");
        assertThat(graph.pathsCopiedFrom(3)).containsExactly("/opt/deps", "/usr/bin/tool");
        assertThat(graph.pathsCopiedFrom(1)).containsExactly("/deps");
        assertThat(graph.pathsCopiedFrom(0)).containsExactly("/etc");
        assertThatThrownBy(() -> graph.dependencies(2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void defaultTargetIsTheLastStage() throws Exception {
        StageGraph graph = StageGraph.build(parse(MULTI), Optional.empty());
        assertThat(graph.target()).isEqualTo(5);
        assertThat(graph.baseStage(5)).contains(4);
        assertThat(graph.reachable()).containsExactly(0, 1, 3, 4, 5);
    }

    @Test
    void theBrokenStageFailsWhenItIsTheTarget() throws Exception {
        Dockerfile df = parse(MULTI.replace("COPY --from=nowhere-later /x /y\n", ""));
        assertThatThrownBy(() -> StageGraph.build(df, Optional.of("broken")))
                .hasMessage("Dockerfile:9: COPY: --from=7 refers to stage index 7, but only stages 0 to 1 are defined "
                        + "before this one");
    }

    @Test
    void unknownTargetIsAnError() throws Exception {
        assertThatThrownBy(() -> StageGraph.build(parse(MULTI), Optional.of("x")))
                .isInstanceOf(DockerfileException.class)
                .hasMessage("Dockerfile: target stage \"x\" could not be found");
    }

    @Test
    void referencesToLaterStagesOrItselfAreErrors() throws Exception {
        Dockerfile later = parse("""
                FROM alpine AS a
                COPY --from=b /x /x
                FROM alpine AS b
                """);
        assertThatThrownBy(() -> StageGraph.build(later, Optional.of("a")))
                .hasMessage("Dockerfile:2: COPY: --from=b refers to stage \"b\" (index 1), which is defined after this "
                        + "one; move it above stage 0");
        Dockerfile self = parse("FROM alpine AS a\nCOPY --from=A /x /x\n");
        assertThatThrownBy(() -> StageGraph.build(self, Optional.empty()))
                .hasMessage("Dockerfile:2: COPY: --from=A refers to this stage itself");
        Dockerfile index = parse("FROM alpine\nCOPY --from=0 /x /x\n");
        assertThatThrownBy(() -> StageGraph.build(index, Optional.empty()))
                .hasMessage(
                        "Dockerfile:2: COPY: --from=0 refers to stage index 0, but no stage is defined before this one");
    }

    @Test
    void fromOwnNameIsAnImage() throws Exception {
        StageGraph graph = StageGraph.build(parse("FROM alpine AS alpine\nRUN true\n"), Optional.empty());
        assertThat(graph.baseStage(0)).isEmpty();
        assertThat(graph.baseImage(0)).contains("alpine");
    }

    @Test
    void fromByIndexAndExpandedReferences() throws Exception {
        Dockerfile df = parse("""
                ARG SRC_STAGE=first
                FROM busybox AS first
                RUN echo > /a
                FROM busybox
                ARG SRC_STAGE
                ENV DIR=/a
                COPY --from=0 ${DIR} /one
                COPY --from=$SRC_STAGE "/with space" /two
                """);
        StageGraph graph = StageGraph.build(df, Optional.empty());
        assertThat(graph.dependencies(1)).containsExactly(0);
        assertThat(graph.pathsCopiedFrom(0)).containsExactly("/a", "/with space");

        Dockerfile viaArg = parse("ARG B=first\nFROM busybox AS first\nFROM $B\n");
        assertThat(StageGraph.build(viaArg, Optional.empty()).baseStage(1)).contains(0);
        assertThat(StageGraph.build(viaArg, Optional.empty(), Map.of("B", "debian"))
                        .baseImage(1))
                .contains("debian");
    }

    @Test
    void aFromChosenByAPlatformArgNamesTheEarlierStage() throws Exception {
        StageGraph graph = StageGraph.build(parse("""
                FROM busybox AS tool-amd64
                FROM busybox AS tool-arm64
                FROM tool-${TARGETARCH}
                RUN true
                """), Optional.empty());
        assertThat(graph.baseStage(2)).contains(0);
        assertThat(graph.baseImage(2)).isEmpty();
        assertThat(graph.reachable()).containsExactly(0, 2);
        assertThat(graph.globalArgs()).containsEntry("TARGETARCH", "amd64");
    }

    @Test
    void buildArgsChooseTheFromStage() throws Exception {
        Dockerfile df = parse("""
                ARG FLAVOUR=slim
                FROM busybox AS slim
                FROM busybox AS full
                FROM ${FLAVOUR}
                """);
        assertThat(StageGraph.build(df, Optional.empty()).baseStage(2)).contains(0);
        assertThat(StageGraph.build(df, Optional.empty(), Map.of("FLAVOUR", "full"))
                        .baseStage(2))
                .contains(1);
    }

    @Test
    void aStageBuiltFromAnEarlierOneExpandsFromWithTheArgsItDeclared() throws Exception {
        StageGraph graph = StageGraph.build(parse("""
                FROM busybox AS src
                RUN mkdir /out
                FROM busybox AS base
                ARG SOURCE=src
                ENV DIR=/out
                FROM base
                COPY --from=${SOURCE} ${DIR} /copied
                """), Optional.empty());
        assertThat(graph.dependencies(2)).containsExactlyInAnyOrder(0, 1);
        assertThat(graph.pathsCopiedFrom(0)).containsExactly("/out");
    }

    @Test
    void stageReferencesNameOrNumberOnlyEarlierStages() throws Exception {
        StageGraph graph = StageGraph.build(parse("""
                FROM busybox AS Build
                FROM busybox AS later
                FROM busybox
                """), Optional.empty());
        assertThat(graph.stageReference("build", 2)).hasValue(0);
        assertThat(graph.stageReference("BUILD", 1)).hasValue(0);
        assertThat(graph.stageReference("1", 2)).hasValue(1);
        assertThat(graph.stageReference("later", 1)).as("not before stage 1").isEmpty();
        assertThat(graph.stageReference("2", 2)).isEmpty();
        assertThat(graph.stageReference("alpine:3.20", 2)).as("an image").isEmpty();
    }
}
