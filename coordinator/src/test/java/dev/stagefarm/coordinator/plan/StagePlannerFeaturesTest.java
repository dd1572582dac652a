package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.common.Digest;
import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.DockerfileParser;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.BaseImage;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CopyOp;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.ImageSource;
import dev.stagefarm.proto.farm.RunMount;
import dev.stagefarm.proto.farm.RunOp;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.Step;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Heredocs, COPY/ADD flags, RUN mounts, ONBUILD and BuildKit's history texts, as the planner sees them. */
class StagePlannerFeaturesTest {

    /** What COPY --from=IMAGE resolves to; null: this build cannot resolve images. */
    ImageSource image;

    final Map<String, String> files = new LinkedHashMap<>(Map.of(
            "app/main.go", "package main\n",
            "app/notes.txt", "notes\n",
            "go.mod", "module m\n"));

    // ---- heredocs ----

    @Test
    void aLoneHeredocRunsItsBodyThroughTheShell() throws Exception {
        StagePlan plan = plan("FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\n");
        RunOp run = plan.steps().getFirst().getRun();
        assertThat(run.getArgsList()).containsExactly("/bin/sh", "-c", "echo one\necho two\n");
        assertThat(run.getMountsList()).isEmpty();
        assertThat(plan.history().getFirst().getCreatedBy())
                .isEqualTo("RUN /bin/sh -c echo one\necho two\n # buildkit");
    }

    @Test
    void aShebangHeredocRunsAsItsOwnScript() throws Exception {
        String text = "FROM scratch\nRUN <<EOF\n#!/usr/bin/env python3\nprint('hi')\nEOF\n";
        StagePlan plan = plan(text);
        RunOp run = plan.steps().getFirst().getRun();
        assertThat(run.getArgsList()).containsExactly("/dev/pipes/EOF");
        RunMount script = run.getMounts(0);
        assertThat(script.getTarget()).isEqualTo("/dev/pipes/EOF");
        assertThat(script.getFile().getMode()).isEqualTo(0755);
        assertThat(script.getFile().getContent().toStringUtf8()).isEqualTo("#!/usr/bin/env python3\nprint('hi')\n");

        String other = plan(text.replace("'hi'", "'bye'")).steps().getFirst().getKey();
        assertThat(other)
                .as("the script's content is keyed")
                .isNotEqualTo(plan.steps().getFirst().getKey());
    }

    @Test
    void aHeredocFedToACommandGoesToTheShellWithItsBody() throws Exception {
        StagePlan plan = plan("FROM scratch\nRUN cat <<A >/a && cat <<B >/b\none\nA\ntwo\nB\n");
        assertThat(plan.steps().getFirst().getRun().getArgsList())
                .containsExactly("/bin/sh", "-c", "cat <<A >/a && cat <<B >/b\none\nA\ntwo\nB");
    }

    @Test
    void tabsAreStrippedFromADashHeredoc() throws Exception {
        StagePlan plan = plan("FROM scratch\nRUN <<-EOF\n\techo hi\n\tEOF\n");
        assertThat(plan.steps().getFirst().getRun().getArgsList()).containsExactly("/bin/sh", "-c", "echo hi\n");
    }

    @Test
    void copyHeredocWritesItsBodyExpandingVariablesButNotQuotes() throws Exception {
        StagePlan plan = plan("""
            FROM scratch
            ARG NAME=world
            COPY --chmod=0755 <<EOF /usr/local/bin/hello
            #!/bin/sh
            echo "hello ${NAME}" '$NAME' [$UNSET] \\$NAME
            printf 'a\\n' C:\\\\dir
            EOF
            """);
        CopyOp copy = plan.steps().getFirst().getCopy();
        assertThat(copy.getSourcesList()).containsExactly("EOF");
        assertThat(copy.getDest()).isEqualTo("/usr/local/bin/hello");
        assertThat(copy.getChmod()).isEqualTo("0755");
        assertThat(copy.getSource().getInline().getFilesMap().get("EOF").toStringUtf8())
                .as("as BuildKit: a backslash makes the next character literal and goes")
                .isEqualTo("#!/bin/sh\necho \"hello world\" 'world' [] $NAME\nprintf 'an' C:\\dir\n");
        assertThat(copy.getMode().getOctal()).isEqualTo(0755);
        assertThat(plan.history().get(1).getCreatedBy())
                .isEqualTo("COPY --chmod=0755 <<EOF /usr/local/bin/hello # buildkit");
    }

    @Test
    void aQuotedDelimiterKeepsTheBodyLiteral() throws Exception {
        StagePlan plan = plan("FROM scratch\nARG NAME=world\nCOPY <<'EOF' /greeting\nhello $NAME\nEOF\n");
        assertThat(plan.steps()
                        .getFirst()
                        .getCopy()
                        .getSource()
                        .getInline()
                        .getFilesMap()
                        .get("EOF")
                        .toStringUtf8())
                .isEqualTo("hello $NAME\n");
    }

    @Test
    void copyHeredocKeyFollowsTheContent() throws Exception {
        String a = plan("FROM scratch\nCOPY <<EOF /f\none\nEOF\n")
                .steps()
                .getFirst()
                .getKey();
        String b = plan("FROM scratch\nCOPY <<EOF /f\ntwo\nEOF\n")
                .steps()
                .getFirst()
                .getKey();
        assertThat(a).isNotEqualTo(b);
    }

    // ---- COPY / ADD flags ----

    @Test
    void symbolicChmodIsAcceptedAndABadOneNamesTheLine() throws Exception {
        assertThat(plan("FROM scratch\nCOPY --chmod=u+x,g-w go.mod /\n")
                        .steps()
                        .getFirst()
                        .getCopy()
                        .getChmod())
                .isEqualTo("u+x,g-w");
        assertThatThrownBy(() -> plan("FROM scratch\n\nCOPY --chmod=u+q go.mod /\n"))
                .isInstanceOf(DockerfileException.class)
                .hasMessageStartingWith("Dockerfile:3: COPY: --chmod=u+q: expected an octal mode");
    }

    @Test
    void excludedFilesAreNotPartOfTheKey() throws Exception {
        String text = "FROM scratch\nCOPY --exclude=*.txt app /app\n";
        String before = plan(text).steps().getFirst().getKey();
        files.put("app/notes.txt", "other notes\n");
        assertThat(plan(text).steps().getFirst().getKey())
                .as("an excluded file changed")
                .isEqualTo(before);
        files.put("app/main.go", "package main // changed\n");
        assertThat(plan(text).steps().getFirst().getKey())
                .as("a copied file changed")
                .isNotEqualTo(before);
        assertThat(plan(text).steps().getFirst().getCopy().getExcludesList()).containsExactly("*.txt");
    }

    @Test
    void parentsAndLinkReachTheWorkerAndTheKey() throws Exception {
        Step plain = plan("FROM scratch\nCOPY app/main.go /src/\n").steps().getFirst();
        Step parents =
                plan("FROM scratch\nCOPY --parents app/main.go /src/\n").steps().getFirst();
        Step link =
                plan("FROM scratch\nCOPY --link app/main.go /src/\n").steps().getFirst();
        assertThat(parents.getCopy().getParents()).isTrue();
        assertThat(link.getCopy().getLink()).isTrue();
        assertThat(List.of(plain.getKey(), parents.getKey(), link.getKey())).doesNotHaveDuplicates();
        assertThat(plan("FROM scratch\nCOPY --parents --chown=1:2 --link app/main.go /src/\n")
                        .history()
                        .getFirst()
                        .getCreatedBy())
                .as("BuildKit's history names --parents and --chown, not --link")
                .isEqualTo("COPY --parents --chown=1:2 app/main.go /src/ # buildkit");
    }

    @Test
    void addOfAUrlIsFetchedByTheWorkerAndKeyedOnItsChecksum() throws Exception {
        String sum = "sha256:" + "a".repeat(64);
        Step add = plan("FROM scratch\nADD --checksum=" + sum + " https://example.com/x.tar.gz /opt/\n")
                .steps()
                .getFirst();
        assertThat(add.getCopy().getSource().getUrl().getUrl()).isEqualTo("https://example.com/x.tar.gz");
        assertThat(add.getCopy().getSource().getUrl().getChecksum()).isEqualTo(sum);
        assertThat(add.getCopy().getExtractArchives())
                .as("downloads are not extracted")
                .isFalse();

        Step other = plan("FROM scratch\nADD --checksum=sha256:" + "b".repeat(64)
                        + " https://example.com/x.tar.gz /opt/\n")
                .steps()
                .getFirst();
        assertThat(other.getKey()).isNotEqualTo(add.getKey());
    }

    @Test
    void urlsAreForAddOnlyAndChecksumsForUrlsOnly() {
        assertThatThrownBy(() -> plan("FROM scratch\nCOPY https://example.com/x /x\n"))
                .hasMessage("Dockerfile:2: COPY: source can't be a URL for COPY: use ADD");
        assertThatThrownBy(() -> plan("FROM scratch\nADD --checksum=sha256:" + "a".repeat(64) + " go.mod /\n"))
                .hasMessageContaining("--checksum can only be used with an http(s) URL source");
    }

    @Test
    void copyFromAnImageNeedsTheBuildToResolveIt() {
        assertThatThrownBy(() -> plan("FROM scratch\nCOPY --from=nginx:latest /etc/nginx /etc/nginx\n"))
                .hasMessageContaining("--from=nginx:latest names no earlier stage");
    }

    @Test
    void copyFromAnImageIsKeyedOnItsLayers() throws Exception {
        image = ImageSource.newBuilder()
                .setRegistryRepository("docker.io/library/nginx")
                .addLayers(Layer.newBuilder().setDigest("sha256:" + "1".repeat(64)))
                .build();
        String text = "FROM scratch\nCOPY --from=nginx:latest /etc/nginx /etc/nginx\n";
        Step copy = plan(text).steps().getFirst();
        assertThat(copy.getCopy().getSource().getImage().getRegistryRepository())
                .isEqualTo("docker.io/library/nginx");

        image = image.toBuilder()
                .setLayers(0, image.getLayers(0).toBuilder().setDigest("sha256:" + "2".repeat(64)))
                .build();
        assertThat(plan(text).steps().getFirst().getKey()).isNotEqualTo(copy.getKey());
    }

    // ---- RUN ----

    @Test
    void mountsBecomeWorkerSpecsWithBuildKitDefaults() throws Exception {
        StagePlan plan = plan("""
            FROM scratch
            WORKDIR /src
            RUN --mount=type=cache,target=/root/.cache/go-build \\
                --mount=type=tmpfs,target=/tmp,size=64m \\
                --mount=type=secret,id=npmrc \\
                --mount=type=secret,id=token,env=TOKEN \\
                --mount=type=bind,source=app,target=app \\
                --network=none go build
            """);
        RunOp run = plan.steps().get(1).getRun();
        assertThat(run.getNetwork()).isEqualTo("none");
        List<RunMount> mounts = run.getMountsList();
        assertThat(mounts)
                .extracting(RunMount::getTarget)
                .containsExactly("/root/.cache/go-build", "/tmp", "/run/secrets/npmrc", "", "/src/app");
        assertThat(mounts.get(0).getCache().getId()).isEqualTo("/root/.cache/go-build");
        assertThat(mounts.get(0).getCache().getSharing()).isEqualTo("shared");
        assertThat(mounts.get(0).getCache().getMode()).isEqualTo(0755);
        assertThat(mounts.get(1).getTmpfs().getSizeBytes()).isEqualTo(64L << 20);
        assertThat(mounts.get(2).getSecret().getMode()).isEqualTo(0400);
        assertThat(mounts.get(3).getSecret().getEnv()).isEqualTo("TOKEN");
        assertThat(mounts.get(4).getBind().getPath()).isEqualTo("app");
        assertThat(mounts.get(4).getBind().getReadWrite()).isFalse();
        assertThat(mounts.get(4).getBind().getSource().getContext()).isTrue();
        assertThat(run.getEnvList()).as("secrets are not in the step").noneMatch(e -> e.startsWith("TOKEN"));
    }

    @Test
    void aBindMountOfTheContextIsKeyedOnWhatItMounts() throws Exception {
        String text = "FROM scratch\nRUN --mount=type=bind,source=app,target=/app ls /app\n";
        String before = plan(text).steps().getFirst().getKey();
        files.put("go.mod", "module other\n");
        assertThat(plan(text).steps().getFirst().getKey())
                .as("a file outside the mount")
                .isEqualTo(before);
        files.put("app/main.go", "package other\n");
        assertThat(plan(text).steps().getFirst().getKey()).isNotEqualTo(before);
    }

    @Test
    void aCacheMountFromAStageStartsFromItsFilesAndDependsOnIt() throws Exception {
        StagePlan plan = plan(
                "FROM scratch AS builder\nFROM scratch\n"
                        + "RUN --mount=type=cache,target=/c,id=deps,from=builder,source=/seed ls /c\n",
                1);
        RunMount m = plan.steps().getFirst().getRun().getMounts(0);
        assertThat(m.getCache().getId()).isEqualTo("deps");
        assertThat(m.getCache().getSeed().getPath()).isEqualTo("seed");
        assertThat(m.getCache().getSeed().getSource().getStage().getStageIndex())
                .isZero();
        assertThat(plan.sourceStages()).containsExactly(0);
    }

    @Test
    void aCacheMountFromAnImageIsRefusedWithTheLine() {
        assertThatThrownBy(() -> plan("FROM scratch\nRUN --mount=type=cache,target=/c,from=golang:1.22 ls /c\n"))
                .hasMessageContaining("Dockerfile:2")
                .hasMessageContaining("from=golang:1.22 names no earlier stage");
    }

    @Test
    void aBindMountFromAStageDependsOnThatStage() throws Exception {
        StagePlan plan = plan("FROM scratch AS builder\nFROM scratch\nRUN --mount=from=builder,target=/b ls /b\n", 1);
        RunMount m = plan.steps().getFirst().getRun().getMounts(0);
        assertThat(m.getBind().getSource().getStage().getStageIndex()).isZero();
        assertThat(plan.sourceStages()).containsExactly(0);
    }

    @Test
    void sshMountsGetBuildKitsSocketsAndTheFirstBecomesSshAuthSock() throws Exception {
        StagePlan plan = plan("""
            FROM scratch
            RUN --mount=type=ssh --mount=type=ssh,id=deploy,required=true,uid=1000 ssh-add -l
            RUN --mount=type=ssh,target=/agent.sock ssh-add -l
            RUN --mount=type=ssh ssh-add -l
            """);
        RunOp first = plan.steps().get(0).getRun();
        assertThat(first.getMountsList())
                .extracting(RunMount::getTarget)
                .containsExactly("/run/buildkit/ssh_agent.0", "/run/buildkit/ssh_agent.1");
        assertThat(first.getMounts(0).getSsh().getId()).isEqualTo("default");
        assertThat(first.getMounts(0).getSsh().getRequired()).isFalse();
        assertThat(first.getMounts(0).getSsh().getMode()).isEqualTo(0600);
        assertThat(first.getMounts(1).getSsh().getId()).isEqualTo("deploy");
        assertThat(first.getMounts(1).getSsh().getRequired()).isTrue();
        assertThat(first.getMounts(1).getSsh().getUid()).isEqualTo(1000);
        assertThat(first.getEnvList()).contains("SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0");
        assertThat(plan.steps().get(1).getRun().getEnvList()).contains("SSH_AUTH_SOCK=/agent.sock");
        // which agent a step may use is part of its key; the agent's keys are not
        assertThat(plan.steps().get(2).getKey())
                .isNotEqualTo(plan.steps().get(1).getKey());
    }

    @Test
    void aStepThatSetsSshAuthSockItselfKeepsIt() throws Exception {
        StagePlan plan = plan("FROM scratch\nENV SSH_AUTH_SOCK=/mine\nRUN --mount=type=ssh ssh-add -l\n");
        assertThat(plan.steps().getFirst().getRun().getEnvList())
                .contains("SSH_AUTH_SOCK=/mine")
                .doesNotContain("SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0");
    }

    @Test
    void workdirOfTheRootMakesNoLayer() throws Exception {
        StagePlan plan = plan("FROM scratch\nWORKDIR /\n");
        assertThat(plan.steps()).isEmpty();
        assertThat(plan.history().getFirst().getCreatedBy()).isEqualTo("WORKDIR /");
        assertThat(plan.history().getFirst().getEmptyLayer()).isTrue();
    }

    @Test
    void insecureRunsAreRefused() {
        assertThatThrownBy(() -> plan("FROM scratch\nRUN --security=insecure mount -t tmpfs none /mnt\n"))
                .hasMessageStartingWith("Dockerfile:2: RUN: --security=insecure is not allowed");
    }

    @Test
    void workdirIsCreatedAsTheUser() throws Exception {
        Step mkdir =
                plan("FROM scratch\nUSER app\nWORKDIR /home/app/work\n").steps().getFirst();
        assertThat(mkdir.getMkdir().getUser()).isEqualTo("app");
        assertThat(mkdir.getKey())
                .isNotEqualTo(plan("FROM scratch\nWORKDIR /home/app/work\n")
                        .steps()
                        .getFirst()
                        .getKey());
    }

    // ---- ONBUILD ----

    @Test
    void theBaseImagesOnbuildTriggersRunFirstAndAreNotInherited() throws Exception {
        ImageConfigEditor config = ImageConfigEditor.parse("""
            {"architecture":"amd64","os":"linux",
             "config":{"OnBuild":["COPY go.mod /src/","RUN echo triggered"]}}
            """.getBytes(StandardCharsets.UTF_8));
        StageBase base = new StageBase(
                CacheKey.of("image").add("onbuild").build(),
                BaseImage.getDefaultInstance(),
                config,
                List.of(),
                "onbuild-base",
                -1);
        StagePlan plan = planner()
                .plan(parse("FROM onbuild-base\nRUN echo mine\n").stages().getFirst(), base);

        assertThat(plan.steps())
                .extracting(Step::getDescription)
                .containsExactly(
                        "[stage-0 2/4] COPY go.mod /src/",
                        "[stage-0 3/4] RUN echo triggered",
                        "[stage-0 4/4] RUN echo mine");
        assertThat(config(plan).path("OnBuild").isMissingNode()).isTrue();
    }

    // ---- history and config ----

    @Test
    void historyTextsAreBuildKits() throws Exception {
        StagePlan plan = plan("""
            FROM scratch
            ARG V=1
            ARG UNSET
            RUN echo $V
            EXPOSE 8080 80 8000-8001/udp
            CMD echo hi
            ENTRYPOINT ["/app", "--flag"]
            SHELL ["/bin/bash", "-c"]
            VOLUME /data /cache
            LABEL a=1 "b c"=d
            STOPSIGNAL SIGTERM
            HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -f localhost || exit 1
            USER 1000:1000
            MAINTAINER someone
            ONBUILD RUN echo later
            """);
        assertThat(plan.history())
                .extracting(History::getCreatedBy)
                .containsExactly(
                        "ARG V=1",
                        "ARG UNSET",
                        "RUN |2 V=1 UNSET= /bin/sh -c echo $V # buildkit",
                        "EXPOSE map[80/tcp:{} 8000/udp:{} 8001/udp:{} 8080/tcp:{}]",
                        "CMD [\"/bin/sh\" \"-c\" \"echo hi\"]",
                        "ENTRYPOINT [\"/app\" \"--flag\"]",
                        "SHELL [/bin/bash -c]",
                        "VOLUME [/data /cache]",
                        "LABEL a=1 b c=d",
                        "STOPSIGNAL SIGTERM",
                        "HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f localhost || exit 1\"] \"30s\" \"3s\" \"0s\" \"0s\" '\\x03'}",
                        "USER 1000:1000",
                        "MAINTAINER someone");
        assertThat(plan.history()).extracting(History::getComment).containsOnly("buildkit.dockerfile.v0");
        assertThat(c(plan).path("OnBuild").get(0).asText())
                .as("ONBUILD: config only, no history")
                .isEqualTo("RUN echo later");
        assertThat(c(plan).path("ArgsEscaped").asBoolean()).isTrue();

        JsonNode c = config(plan);
        assertThat(c.path("ExposedPorts").size()).isEqualTo(4);
        assertThat(c.path("Healthcheck").path("Interval").asLong()).isEqualTo(30_000_000_000L);
        assertThat(c.path("Healthcheck").path("Retries").asInt()).isEqualTo(3);
        assertThat(c.path("Labels").path("b c").asText()).isEqualTo("d");
        assertThat(c.path("Volumes").has("/cache")).isTrue();
        assertThat(c.path("User").asText()).isEqualTo("1000:1000");
    }

    @Test
    void argHistoryShowsTheValueInEffect() throws Exception {
        StagePlan plan = planner(Map.of("V", "2"))
                .plan(parse("FROM scratch\nARG V=1 W=$V\n").stages().getFirst(), scratchBase());
        assertThat(plan.history().getFirst().getCreatedBy()).isEqualTo("ARG V=2 W=2");
    }

    // ---- SOURCE_DATE_EPOCH ----

    @Test
    void sourceDateEpochDatesTheHistoryAndSeparatesTheLayersKeys() throws Exception {
        String text = "FROM scratch\nCOPY go.mod /\nENV A=b\n";
        StagePlan dated = planner(Map.of("SOURCE_DATE_EPOCH", "1700000000"))
                .plan(parse(text).stages().getFirst(), scratchBase());
        StagePlan plain = plan(text);

        assertThat(dated.sourceDateEpoch()).contains(Instant.ofEpochSecond(1700000000));
        assertThat(dated.history()).extracting(History::getCreated).containsOnly("2023-11-14T22:13:20Z");
        assertThat(plain.sourceDateEpoch()).isEmpty();
        assertThat(plain.history().getFirst().getCreated()).isNotEqualTo("2023-11-14T22:13:20Z");
        // a layer built with the epoch has clamped mtimes: it is another cache entry
        assertThat(dated.steps().getFirst().getKey())
                .isNotEqualTo(plain.steps().getFirst().getKey());
        assertThat(planner(Map.of("SOURCE_DATE_EPOCH", "1700000000"))
                        .plan(parse(text).stages().getFirst(), scratchBase())
                        .steps()
                        .getFirst()
                        .getKey())
                .isEqualTo(dated.steps().getFirst().getKey());
    }

    @Test
    void aSourceDateEpochThatIsNoNumberNamesTheFromLine() {
        assertThatThrownBy(() -> planner(Map.of("SOURCE_DATE_EPOCH", "yesterday"))
                        .plan(parse("\nFROM scratch\nRUN true\n").stages().getFirst(), scratchBase()))
                .isInstanceOf(DockerfileException.class)
                .hasMessageStartingWith("Dockerfile:2: FROM: invalid SOURCE_DATE_EPOCH \"yesterday\"");
    }

    @Test
    void aBadPortNamesTheLine() {
        assertThatThrownBy(() -> plan("FROM scratch\nEXPOSE 80/xyz\n"))
                .hasMessageStartingWith("Dockerfile:2: EXPOSE: invalid proto: xyz");
    }

    @Test
    void unknownFlagsNameTheLine() {
        assertThatThrownBy(() -> plan("FROM scratch\n\nCOPY --bogus=1 go.mod /\n"))
                .isInstanceOf(DockerfileException.class)
                .hasMessageStartingWith("Dockerfile:3: COPY:");
    }

    // ---- helpers ----

    private StagePlan plan(String text) throws DockerfileException {
        return plan(text, 0);
    }

    private StagePlan plan(String text, int stage) throws DockerfileException {
        return planner().plan(parse(text).stages().get(stage), scratchBase());
    }

    private static StageBase scratchBase() {
        return new StageBase(
                CacheKey.of("scratch").build(),
                BaseImage.getDefaultInstance(),
                ImageConfigEditor.scratch(),
                List.of(),
                "scratch",
                -1);
    }

    private static JsonNode c(StagePlan plan) throws IOException {
        return config(plan);
    }

    private static Dockerfile parse(String text) throws DockerfileException {
        return DockerfileParser.parse(text, "Dockerfile");
    }

    private StagePlanner planner() {
        return planner(Map.of());
    }

    private StagePlanner planner(Map<String, String> buildArgs) {
        ContextManifest.Builder m = ContextManifest.newBuilder();
        m.addEntries(ContextEntry.newBuilder()
                .setPath("app")
                .setType(ContextEntry.Type.DIRECTORY)
                .setMode(0755));
        files.forEach((path, text) -> m.addEntries(ContextEntry.newBuilder()
                .setPath(path)
                .setType(ContextEntry.Type.FILE)
                .setMode(0644)
                .setDigest(Digest.of(text.getBytes(StandardCharsets.UTF_8)).toString())));
        ContextIndex context = new ContextIndex(m.build());
        return new StagePlanner(new StagePlanner.Inputs() {
            public String fileName() {
                return "Dockerfile";
            }

            public char escape() {
                return '\\';
            }

            public Optional<String> buildArg(String name) {
                return Optional.ofNullable(buildArgs.get(name));
            }

            public Map<String, String> globalArgs() {
                return Map.of();
            }

            public ContextIndex context() {
                return context;
            }

            public OptionalInt stageIndex(String ref) {
                return ref.equals("builder") || ref.equals("0") ? OptionalInt.of(0) : OptionalInt.empty();
            }

            public Optional<ImageSource> image(String ref) {
                return Optional.ofNullable(image);
            }

            public StageSource stageSource(int stage, List<String> sources) {
                return StageSource.newBuilder()
                        .setStageIndex(stage)
                        .setStageKey("sha256:" + "c".repeat(64))
                        .setArtifact(ArtifactResult.newBuilder().setDigest("sha256:" + "d".repeat(64)))
                        .build();
            }
        });
    }

    private static JsonNode config(StagePlan plan) throws IOException {
        return new ObjectMapper().readTree(plan.config().toJsonWithoutLayers()).path("config");
    }

    @SuppressWarnings("unused")
    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
