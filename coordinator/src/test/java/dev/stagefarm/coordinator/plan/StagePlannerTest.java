package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.common.Digest;
import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.DockerfileParser;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.farm.BaseImage;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.Step;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class StagePlannerTest {

    /** The PATH BuildKit gives a FROM scratch stage. */
    private static final String SCRATCH_PATH = "PATH=" + ImageConfigEditor.DEFAULT_PATH;

    static final String GO_WEB = """
        FROM golang:latest AS builder
        WORKDIR /app
        COPY go.mod go.sum ./
        RUN go mod download
        COPY . .
        RUN go build -o main .

        FROM alpine:latest
        WORKDIR /app
        COPY --from=builder /app/main .
        EXPOSE 8080
        CMD ["./main"]
        """;

    static final String ARTIFACT =
            Digest.of("the built binary".getBytes(StandardCharsets.UTF_8)).toString();

    /** The go-web example's context; file contents are given by their text. */
    final Map<String, String> files = new LinkedHashMap<>(Map.of(
            "Dockerfile", GO_WEB,
            "go.mod", "module example.com/web\n",
            "go.sum", "golang.org/x/net v0.1.0 h1:abc\n",
            "main.go", "package main\nfunc main() {}\n"));

    @Test
    void goWebBuilderStageBecomesFiveFilesystemSteps() throws Exception {
        StagePlan plan = plan(GO_WEB, 0);

        assertThat(plan.steps())
                .extracting(Step::getOpCase)
                .containsExactly(
                        Step.OpCase.MKDIR, Step.OpCase.COPY, Step.OpCase.RUN, Step.OpCase.COPY, Step.OpCase.RUN);
        assertThat(plan.steps())
                .extracting(Step::getDescription)
                .containsExactly(
                        "[builder 2/6] WORKDIR /app",
                        "[builder 3/6] COPY go.mod go.sum ./",
                        "[builder 4/6] RUN go mod download",
                        "[builder 5/6] COPY . .",
                        "[builder 6/6] RUN go build -o main .");
        assertThat(plan.steps()).extracting(Step::getLine).containsExactly(2, 3, 4, 5, 6);

        Step copyModules = plan.steps().get(1);
        assertThat(copyModules.getCopy().getSourcesList()).containsExactly("go.mod", "go.sum");
        assertThat(copyModules.getCopy().getDest()).isEqualTo("./");
        assertThat(copyModules.getCopy().getCwd()).isEqualTo("/app");
        assertThat(copyModules.getCopy().getSource().getContext()).isTrue();
        assertThat(plan.steps().get(2).getRun().getArgsList()).containsExactly("/bin/sh", "-c", "go mod download");
        assertThat(plan.steps().get(2).getRun().getCwd()).isEqualTo("/app");

        assertThat(plan.history())
                .extracting(History::getCreatedBy)
                .containsExactly(
                        "WORKDIR /app",
                        "COPY go.mod go.sum ./ # buildkit",
                        "RUN /bin/sh -c go mod download # buildkit",
                        "COPY . . # buildkit",
                        "RUN /bin/sh -c go build -o main . # buildkit");
        assertThat(plan.history()).extracting(History::getEmptyLayer).containsOnly(false);
        assertThat(plan.history()).extracting(History::getStepIndex).containsExactly(0, 1, 2, 3, 4);
        assertThat(plan.stageKey()).isEqualTo(plan.steps().getLast().getKey());
        assertThat(config(plan).path("WorkingDir").asText()).isEqualTo("/app");
    }

    @Test
    void goWebFinalStageCopiesTheArtifactAndSetsPortAndCmd() throws Exception {
        StagePlan plan = plan(GO_WEB, 1);

        assertThat(plan.steps())
                .extracting(Step::getDescription)
                .containsExactly("[stage-1 2/3] WORKDIR /app", "[stage-1 3/3] COPY --from=builder /app/main .");
        StageSource source = plan.steps().get(1).getCopy().getSource().getStage();
        assertThat(source.getStageIndex()).isZero();
        assertThat(source.getArtifact().getDigest()).isEqualTo(ARTIFACT);
        assertThat(plan.sourceStages()).containsExactly(0);

        assertThat(plan.history())
                .extracting(History::getCreatedBy, History::getEmptyLayer)
                .containsExactly(
                        Tuple.tuple("WORKDIR /app", false),
                        Tuple.tuple("COPY /app/main . # buildkit", false),
                        Tuple.tuple("EXPOSE map[8080/tcp:{}]", true),
                        Tuple.tuple("CMD [\"./main\"]", true));

        JsonNode config = config(plan);
        assertThat(config.path("WorkingDir").asText()).isEqualTo("/app");
        assertThat(strings(config.path("Cmd"))).containsExactly("./main");
        assertThat(config.path("ExposedPorts").has("8080/tcp")).isTrue();
        assertThat(config.path("ExposedPorts").size()).isEqualTo(1);
    }

    @Test
    void sameInputsGiveSameKeys() throws Exception {
        assertThat(keys(plan(GO_WEB, 0))).isEqualTo(keys(plan(GO_WEB, 0)));
        assertThat(keys(plan(GO_WEB, 1))).isEqualTo(keys(plan(GO_WEB, 1)));
        assertThat(keys(plan(GO_WEB, 0))).doesNotHaveDuplicates();
    }

    @Test
    void changingGoModRebuildsFromItsCopyOnwards() throws Exception {
        List<String> before = keys(plan(GO_WEB, 0));
        files.put("go.mod", "module example.com/web\n\nrequire golang.org/x/net v0.2.0\n");
        List<String> after = keys(plan(GO_WEB, 0));

        assertThat(after.get(0)).as("WORKDIR").isEqualTo(before.get(0));
        for (int i = 1; i < 5; i++) {
            assertThat(after.get(i)).as("step %d", i).isNotEqualTo(before.get(i));
        }
    }

    @Test
    void changingSourceCodeKeepsTheDependencyDownloadCached() throws Exception {
        List<String> before = keys(plan(GO_WEB, 0));
        files.put("main.go", "package main\nfunc main() { println(1) }\n");
        List<String> after = keys(plan(GO_WEB, 0));

        assertThat(after.subList(0, 3))
                .as("WORKDIR, COPY go.mod go.sum, RUN go mod download")
                .isEqualTo(before.subList(0, 3));
        assertThat(after.get(3)).as("COPY . .").isNotEqualTo(before.get(3));
        assertThat(after.get(4)).as("RUN go build").isNotEqualTo(before.get(4));
    }

    @Test
    void makingAFileExecutableChangesTheKeyOfTheCopyThatTakesIt() throws Exception {
        List<String> before = keys(plan(GO_WEB, 0));
        List<String> after = keys(planner(context(Map.of("main.go", 0755)), Map.of())
                .plan(parse(GO_WEB).stages().get(0), scratch()));
        assertThat(after.subList(0, 3)).isEqualTo(before.subList(0, 3));
        assertThat(after.get(3)).isNotEqualTo(before.get(3));
    }

    @Test
    void aDifferentBaseRebuildsEveryStep() throws Exception {
        Dockerfile df = parse(GO_WEB);
        StagePlanner planner = planner(context(Map.of()), Map.of());
        StageBase other = new StageBase(
                CacheKey.of("image").add("sha256:other").build(),
                BaseImage.getDefaultInstance(),
                ImageConfigEditor.scratch(),
                List.of(),
                "other",
                -1);
        List<String> onScratch = keys(planner.plan(df.stages().get(0), scratch()));
        List<String> onOther = keys(planner.plan(df.stages().get(0), other));
        for (int i = 0; i < onScratch.size(); i++) {
            assertThat(onOther.get(i)).as("step %d", i).isNotEqualTo(onScratch.get(i));
        }
    }

    @Test
    void copyFromAStageIsKeyedOnTheCopiedContentNotTheStageKeyOrTheBlob() throws Exception {
        FinalStage final1 = new FinalStage(parse(GO_WEB).stages().get(1));
        String content = Digest.of(new byte[] {7}).toString();
        String key = final1.copyKey("sha256:" + "1".repeat(64), ARTIFACT, content);
        assertThat(final1.copyKey(
                        "sha256:" + "2".repeat(64), Digest.of(new byte[] {2}).toString(), content))
                .as("a rebuilt builder that yields the same files, with new mtimes: another blob")
                .isEqualTo(key);
        assertThat(final1.copyKey(
                        "sha256:" + "1".repeat(64),
                        ARTIFACT,
                        Digest.of(new byte[] {8}).toString()))
                .as("a different binary, or the same one with another mode")
                .isNotEqualTo(key);
        assertThat(final1.copyKey("sha256:" + "1".repeat(64), ARTIFACT, ""))
                .as("an artifact without a content digest is keyed on its blob, never alike")
                .isNotEqualTo(key)
                .isNotEqualTo(final1.copyKey("sha256:" + "1".repeat(64), content, ""));
    }

    @Test
    void envValuesSeeTheEnvironmentFromBeforeTheInstruction() throws Exception {
        StagePlan plan = plan("""
            FROM scratch
            ENV a=0
            ENV a=1 b=$a
            RUN env
            """, 0);

        assertThat(strings(config(plan).path("Env"))).containsExactly(SCRATCH_PATH, "a=1", "b=0");
        assertThat(plan.steps().getFirst().getRun().getEnvList()).containsExactly(SCRATCH_PATH, "a=1", "b=0");
        assertThat(plan.history().get(1).getCreatedBy()).isEqualTo("ENV a=1 b=0");
        assertThat(plan.history().get(1).getEmptyLayer()).isTrue();
    }

    @Test
    void argDefaultAppliesUnlessABuildArgIsGiven() throws Exception {
        String text = """
            FROM scratch
            ARG VERSION=1.0
            RUN echo $VERSION
            """;
        StagePlan byDefault = plan(text, 0);
        StagePlan given = planner(context(Map.of()), Map.of("VERSION", "2.0"))
                .plan(parse(text).stages().get(0), scratch());

        assertThat(byDefault.steps().getFirst().getRun().getEnvList()).containsExactly(SCRATCH_PATH, "VERSION=1.0");
        assertThat(given.steps().getFirst().getRun().getEnvList()).containsExactly(SCRATCH_PATH, "VERSION=2.0");
        assertThat(given.steps().getFirst().getKey())
                .isNotEqualTo(byDefault.steps().getFirst().getKey());
        assertThat(strings(config(given).path("Env")))
                .as("ARG values are not part of the image")
                .containsExactly(SCRATCH_PATH);
    }

    @Test
    void argsExpandInFileInstructions() throws Exception {
        StagePlan plan = plan("""
            FROM scratch
            ARG DIR=/srv
            WORKDIR $DIR/app
            WORKDIR static
            """, 0);
        assertThat(plan.steps())
                .extracting(Step::getDescription)
                .containsExactly("[stage-0 2/3] WORKDIR /srv/app", "[stage-0 3/3] WORKDIR /srv/app/static");
        assertThat(config(plan).path("WorkingDir").asText()).isEqualTo("/srv/app/static");
    }

    @Test
    void entrypointClearsAnInheritedCmd() throws Exception {
        StageBase base = baseWithCmd();
        StagePlan plan = planner(context(Map.of()), Map.of())
                .plan(parse("FROM app\nENTRYPOINT [\"/app\"]\n").stages().get(0), base);

        JsonNode config = config(plan);
        assertThat(strings(config.path("Entrypoint"))).containsExactly("/app");
        assertThat(config.path("Cmd").isMissingNode()).isTrue();
        assertThat(strings(config.path("Env")))
                .as("the rest of the base config stays")
                .containsExactly("PATH=/bin");
        assertThat(plan.history())
                .extracting(History::getCreatedBy)
                .containsExactly("base layer", "ENTRYPOINT [\"/app\"]");
    }

    @Test
    void entrypointKeepsACmdSetInTheSameStage() throws Exception {
        StagePlan plan = planner(context(Map.of()), Map.of())
                .plan(
                        parse("FROM app\nCMD [\"--help\"]\nENTRYPOINT [\"/app\"]\n")
                                .stages()
                                .get(0),
                        baseWithCmd());
        assertThat(strings(config(plan).path("Cmd"))).containsExactly("--help");
    }

    @Test
    void copyOfAMissingSourceNamesTheLine() throws Exception {
        assertThatThrownBy(() -> plan("""
            FROM scratch
            WORKDIR /app
            COPY go.mod go.work ./
            """, 0))
                .isInstanceOf(DockerfileException.class)
                .hasMessage("Dockerfile:3: COPY: \"go.work\" not found in the build context"
                        + " (is it left out by .dockerignore?)")
                .satisfies(e -> assertThat(((DockerfileException) e).line()).isEqualTo(3));
    }

    @Test
    void aGlobMatchingNothingIsLeftOutAsBuildKitAllows() throws Exception {
        // BuildKit copies what the other sources match, and nothing when none does
        var copy = planner(context(Map.of()), Map.of())
                .plan(parse("FROM scratch\nCOPY go.mod *.rs /src\n").stages().getFirst(), scratch())
                .steps()
                .getFirst()
                .getCopy();
        assertThat(copy.getSourcesList()).containsExactly("go.mod");
        assertThat(copy.getDest()).as("BuildKit 20.10 copies to the file /src").isEqualTo("/src");
        var none = plan("FROM scratch\nCOPY *.rs /src\n", 0).steps().getFirst().getCopy();
        assertThat(none.getSourcesList()).isEmpty();
    }

    // ---- helpers ----

    private StagePlan plan(String dockerfile, int stage) throws DockerfileException {
        return planner(context(Map.of()), Map.of())
                .plan(parse(dockerfile).stages().get(stage), scratch());
    }

    private static Dockerfile parse(String text) throws DockerfileException {
        return DockerfileParser.parse(text, "Dockerfile");
    }

    private static StageBase scratch() {
        return new StageBase(
                CacheKey.of("scratch").build(),
                BaseImage.getDefaultInstance(),
                ImageConfigEditor.scratch(),
                List.of(),
                "scratch",
                -1);
    }

    private static StageBase baseWithCmd() {
        ImageConfigEditor config = ImageConfigEditor.parse("""
            {"architecture":"amd64","os":"linux",
             "config":{"Env":["PATH=/bin"],"Cmd":["sh"]},
             "history":[{"created_by":"base layer"}]}
            """.getBytes(StandardCharsets.UTF_8));
        return new StageBase(
                CacheKey.of("image").add("app").build(),
                BaseImage.getDefaultInstance(),
                config,
                config.history(),
                "app",
                -1);
    }

    /** The context built from {@link #files}, with modes 0644 unless overridden. */
    private ContextIndex context(Map<String, Integer> modes) {
        ContextManifest.Builder m = ContextManifest.newBuilder();
        files.forEach((path, text) -> {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            m.addEntries(ContextEntry.newBuilder()
                    .setPath(path)
                    .setType(ContextEntry.Type.FILE)
                    .setMode(modes.getOrDefault(path, 0644))
                    .setSize(bytes.length)
                    .setDigest(Digest.of(bytes).toString()));
        });
        return new ContextIndex(m.build());
    }

    private static StagePlanner planner(ContextIndex context, Map<String, String> buildArgs) {
        return new StagePlanner(new TestInputs(
                context,
                buildArgs,
                "sha256:" + "b".repeat(64),
                ArtifactResult.newBuilder().setDigest(ARTIFACT).setSize(16).build()));
    }

    private static List<String> keys(StagePlan plan) {
        return plan.steps().stream().map(Step::getKey).toList();
    }

    private static JsonNode config(StagePlan plan) throws IOException {
        return new ObjectMapper().readTree(plan.config().toJsonWithoutLayers()).path("config");
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The go-web final stage planned against a builder that ended with the given key and artifact. */
    private record FinalStage(Stage stage) {
        String copyKey(String builderKey, String blob, String content) throws DockerfileException {
            ContextIndex empty = new ContextIndex(ContextManifest.getDefaultInstance());
            ArtifactResult artifact = ArtifactResult.newBuilder()
                    .setDigest(blob)
                    .setSize(16)
                    .setContentDigest(content)
                    .build();
            return new StagePlanner(new TestInputs(empty, Map.of(), builderKey, artifact))
                    .plan(stage, scratch())
                    .steps()
                    .get(1)
                    .getKey();
        }
    }

    /** A build of one Dockerfile whose stage 0 ("builder") has finished with the given key and artifact. */
    private record TestInputs(
            ContextIndex context, Map<String, String> buildArgs, String builderKey, ArtifactResult artifact)
            implements StagePlanner.Inputs {
        @Override
        public String fileName() {
            return "Dockerfile";
        }

        @Override
        public char escape() {
            return '\\';
        }

        @Override
        public Optional<String> buildArg(String name) {
            return Optional.ofNullable(buildArgs.get(name));
        }

        @Override
        public Map<String, String> globalArgs() {
            return Map.of();
        }

        @Override
        public OptionalInt stageIndex(String ref) {
            return ref.equals("builder") || ref.equals("0") ? OptionalInt.of(0) : OptionalInt.empty();
        }

        @Override
        public StageSource stageSource(int stage, List<String> sources) {
            return StageSource.newBuilder()
                    .setStageIndex(stage)
                    .setStageKey(builderKey)
                    .setArtifact(artifact)
                    .build();
        }
    }
}
