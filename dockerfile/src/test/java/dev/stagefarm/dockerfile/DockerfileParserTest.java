package dev.stagefarm.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DockerfileParserTest {

    static final String EXAMPLE = """
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

    static Dockerfile parse(String text) throws DockerfileException {
        return DockerfileParser.parse(text, "Dockerfile");
    }

    static List<Instruction> only(String text) throws DockerfileException {
        return parse(text).stages().getFirst().instructions();
    }

    static Instruction first(String body) throws DockerfileException {
        return only("FROM scratch\n" + body).getFirst();
    }

    @Test
    void parsesTheExampleCompletely() throws Exception {
        Dockerfile df = parse(EXAMPLE);

        assertThat(df.globalArgs()).isEmpty();
        assertThat(df.directives()).isEmpty();
        assertThat(df.stages()).hasSize(2);

        Stage builder = df.stages().get(0);
        assertThat(builder.index()).isZero();
        assertThat(builder.name()).contains("builder");
        assertThat(builder.baseImage()).isEqualTo("golang:latest");
        assertThat(builder.platform()).isEmpty();
        assertThat(builder.line()).isEqualTo(1);
        assertThat(builder.original()).isEqualTo("FROM golang:latest AS builder");
        assertThat(builder.instructions())
                .containsExactly(
                        new Instruction.Workdir(2, "WORKDIR /app", "/app"),
                        new Instruction.Copy(
                                3,
                                "COPY go.mod go.sum ./",
                                false,
                                List.of("go.mod", "go.sum"),
                                "./",
                                Optional.empty(),
                                Optional.empty(),
                                Optional.empty(),
                                false,
                                List.of(),
                                false,
                                Optional.empty(),
                                List.of(),
                                false),
                        new Instruction.Run(
                                4,
                                "RUN go mod download",
                                false,
                                List.of(),
                                "go mod download",
                                Optional.empty(),
                                List.of(),
                                List.of(),
                                Optional.empty()),
                        new Instruction.Copy(
                                5,
                                "COPY . .",
                                false,
                                List.of("."),
                                ".",
                                Optional.empty(),
                                Optional.empty(),
                                Optional.empty(),
                                false,
                                List.of(),
                                false,
                                Optional.empty(),
                                List.of(),
                                false),
                        new Instruction.Run(
                                6,
                                "RUN go build -o main .",
                                false,
                                List.of(),
                                "go build -o main .",
                                Optional.empty(),
                                List.of(),
                                List.of(),
                                Optional.empty()));

        Stage runtime = df.stages().get(1);
        assertThat(runtime.index()).isEqualTo(1);
        assertThat(runtime.name()).isEmpty();
        assertThat(runtime.baseImage()).isEqualTo("alpine:latest");
        assertThat(runtime.line()).isEqualTo(8);
        assertThat(runtime.original()).isEqualTo("FROM alpine:latest");
        assertThat(runtime.instructions())
                .containsExactly(
                        new Instruction.Workdir(9, "WORKDIR /app", "/app"),
                        new Instruction.Copy(
                                10,
                                "COPY --from=builder /app/main .",
                                false,
                                List.of("/app/main"),
                                ".",
                                Optional.of("builder"),
                                Optional.empty(),
                                Optional.empty(),
                                false,
                                List.of(),
                                false,
                                Optional.empty(),
                                List.of(),
                                false),
                        new Instruction.Expose(11, "EXPOSE 8080", List.of("8080")),
                        new Instruction.Cmd(12, "CMD [\"./main\"]", true, List.of("./main"), ""));
        assertThat(runtime.instructions().get(1).keyword()).isEqualTo("COPY");
    }

    @Test
    void joinsContinuationsAndSkipsCommentAndBlankLinesInside() throws Exception {
        Dockerfile df = parse("""
                # a comment before anything
                FROM alpine
                RUN apk add \\
                # this comment is dropped
                      curl \\

                      git
                run echo done
                """);
        List<Instruction> body = df.stages().getFirst().instructions();
        Instruction.Run run = (Instruction.Run) body.get(0);
        assertThat(run.line()).isEqualTo(3);
        assertThat(run.command()).isEqualTo("apk add       curl       git");
        assertThat(run.original()).isEqualTo("RUN apk add       curl       git");
        assertThat(body.get(1)).isInstanceOf(Instruction.Run.class);
        assertThat(body.get(1).line()).isEqualTo(8);
        assertThat(((Instruction.Run) body.get(1)).command()).isEqualTo("echo done");
    }

    @Test
    void escapeDirectiveWithBacktickChangesTheContinuationCharacter() throws Exception {
        Dockerfile df = parse("""
                # escape=`
                # syntax=docker/dockerfile:1
                FROM mcr.microsoft.com/windows/servercore
                COPY testfile.txt c:\\
                RUN dir c:\\ `
                    /s
                """);
        assertThat(df.directives())
                .containsExactlyInAnyOrderEntriesOf(Map.of("escape", "`", "syntax", "docker/dockerfile:1"));
        assertThat(df.escape()).isEqualTo('`');
        List<Instruction> body = df.stages().getFirst().instructions();
        Instruction.Copy copy = (Instruction.Copy) body.get(0);
        assertThat(copy.sources()).containsExactly("testfile.txt");
        assertThat(copy.dest()).isEqualTo("c:\\");
        assertThat(((Instruction.Run) body.get(1)).command()).isEqualTo("dir c:\\     /s");
    }

    @Test
    void directivesStopAtTheFirstOtherLine() throws Exception {
        Dockerfile df = parse("""
                # check=skip=all
                # just a comment
                # escape=`
                FROM alpine
                RUN a \\
                    b
                """);
        assertThat(df.directives()).containsExactly(Map.entry("check", "skip=all"));
        assertThat(((Instruction.Run) df.stages().getFirst().instructions().getFirst()).command())
                .isEqualTo("a     b");
    }

    @Test
    void invalidEscapeDirectiveIsAnError() {
        assertThatThrownBy(() -> parse("# escape=x\nFROM alpine\n"))
                .hasMessage("Dockerfile:1: invalid escape token 'x': use ` or \\");
    }

    @Test
    void execFormAndShellForm() throws Exception {
        List<Instruction> body = only("""
                FROM alpine
                CMD ["echo", "a b", "\\"q\\""]
                CMD echo "a b"
                ENTRYPOINT ["/bin/app"]
                ENTRYPOINT /bin/app --flag
                RUN ["sh", "-c", "true"]
                RUN [not json
                CMD []
                """);
        assertThat(body.get(0))
                .isEqualTo(new Instruction.Cmd(
                        2, "CMD [\"echo\", \"a b\", \"\\\"q\\\"\"]", true, List.of("echo", "a b", "\"q\""), ""));
        assertThat(body.get(1)).isEqualTo(new Instruction.Cmd(3, "CMD echo \"a b\"", false, List.of(), "echo \"a b\""));
        assertThat(((Instruction.Entrypoint) body.get(2)).args()).containsExactly("/bin/app");
        assertThat(((Instruction.Entrypoint) body.get(3)).execForm()).isFalse();
        assertThat(((Instruction.Entrypoint) body.get(3)).command()).isEqualTo("/bin/app --flag");
        assertThat(((Instruction.Run) body.get(4)).args()).containsExactly("sh", "-c", "true");
        Instruction.Run notJson = (Instruction.Run) body.get(5);
        assertThat(notJson.execForm()).isFalse();
        assertThat(notJson.command()).isEqualTo("[not json");
        assertThat(((Instruction.Cmd) body.get(6)).execForm()).isTrue();
        assertThat(((Instruction.Cmd) body.get(6)).args()).isEmpty();
    }

    @Test
    void instructionNamesAreCaseInsensitiveAndStageNamesLowerCased() throws Exception {
        Dockerfile df = parse("from --platform=$BUILDPLATFORM golang:1.22 as Build\nworkdir /src\n");
        Stage stage = df.stages().getFirst();
        assertThat(stage.name()).contains("build");
        assertThat(stage.platform()).contains("$BUILDPLATFORM");
        assertThat(stage.baseImage()).isEqualTo("golang:1.22");
        assertThat(stage.instructions()).containsExactly(new Instruction.Workdir(2, "workdir /src", "/src"));
    }

    @Test
    void argsBeforeFromAreGlobalAndKeepDefaultsUnexpanded() throws Exception {
        Dockerfile df = parse("""
                ARG VERSION=1.2 OTHER
                ARG BASE="alpine:${VERSION}"
                FROM $BASE
                ARG VERSION
                """);
        assertThat(df.globalArgs()).hasSize(2);
        assertThat(df.globalArgs().get(0).args())
                .containsExactly(new ArgDef("VERSION", Optional.of("1.2")), new ArgDef("OTHER", Optional.empty()));
        assertThat(df.globalArgs().get(1).args())
                .containsExactly(new ArgDef("BASE", Optional.of("\"alpine:${VERSION}\"")));
        assertThat(df.stages().getFirst().baseImage()).isEqualTo("$BASE");
        assertThat(df.stages().getFirst().line()).isEqualTo(3);
        assertThat(df.stages().getFirst().instructions())
                .containsExactly(
                        new Instruction.Arg(4, "ARG VERSION", List.of(new ArgDef("VERSION", Optional.empty()))));
    }

    @Test
    void envAndLabelInBothForms() throws Exception {
        List<Instruction> body = only("""
                FROM alpine
                ENV PATH /usr/local/bin:$PATH and more
                ENV A=1 B="x y" C=a\\ b
                LABEL "com.example.vendor"="ACME Inc" version=1.0
                LABEL description This text illustrates
                """);
        assertThat(((Instruction.Env) body.get(0)).vars())
                .containsExactly(new KeyValue("PATH", "/usr/local/bin:$PATH and more"));
        assertThat(((Instruction.Env) body.get(1)).vars())
                .containsExactly(new KeyValue("A", "1"), new KeyValue("B", "\"x y\""), new KeyValue("C", "a\\ b"));
        assertThat(((Instruction.Label) body.get(2)).labels())
                .containsExactly(
                        new KeyValue("\"com.example.vendor\"", "\"ACME Inc\""), new KeyValue("version", "1.0"));
        assertThat(((Instruction.Label) body.get(3)).labels())
                .containsExactly(new KeyValue("description", "This text illustrates"));
    }

    @Test
    void copyAndAddFlags() throws Exception {
        List<Instruction> body = only("""
                FROM alpine
                COPY --from=0 --chown=app:app --chmod=0755 --link --exclude=*.md --exclude=tmp --parents a/ b/ /dst/
                ADD --checksum=sha256:abc --keep-git-dir=true https://example.com/x.tar.gz /x/
                COPY ["with space.txt", "/dst dir/"]
                """);
        Instruction.Copy copy = (Instruction.Copy) body.get(0);
        assertThat(copy.add()).isFalse();
        assertThat(copy.from()).contains("0");
        assertThat(copy.chown()).contains("app:app");
        assertThat(copy.chmod()).contains("0755");
        assertThat(copy.link()).isTrue();
        assertThat(copy.excludes()).containsExactly("*.md", "tmp");
        assertThat(copy.parents()).isTrue();
        assertThat(copy.sources()).containsExactly("a/", "b/");
        assertThat(copy.dest()).isEqualTo("/dst/");

        Instruction.Copy add = (Instruction.Copy) body.get(1);
        assertThat(add.add()).isTrue();
        assertThat(add.keyword()).isEqualTo("ADD");
        assertThat(add.checksum()).contains("sha256:abc");
        assertThat(add.keepGitDir()).isTrue();
        assertThat(add.sources()).containsExactly("https://example.com/x.tar.gz");

        Instruction.Copy json = (Instruction.Copy) body.get(2);
        assertThat(json.sources()).containsExactly("with space.txt");
        assertThat(json.dest()).isEqualTo("/dst dir/");
    }

    @Test
    void runFlagsAndMounts() throws Exception {
        Instruction.Run run = (Instruction.Run) first("""
                RUN --network=none --mount=type=cache,target=/root/.cache/go-build,id=gobuild,sharing=locked \\
                    --mount=type=bind,from=builder,source=/out,target=/in,rw \\
                    --mount=type=secret,id=npmrc go build ./...
                """);
        assertThat(run.network()).contains("none");
        assertThat(run.command()).isEqualTo("go build ./...");
        assertThat(run.mounts()).hasSize(3);
        RunMount cache = run.mounts().get(0);
        assertThat(cache.type()).isEqualTo("cache");
        assertThat(cache.target()).contains("/root/.cache/go-build");
        assertThat(cache.id()).contains("gobuild");
        assertThat(cache.readOnly()).isFalse();
        assertThat(cache.option("sharing")).contains("locked");
        RunMount bind = run.mounts().get(1);
        assertThat(bind.type()).isEqualTo("bind");
        assertThat(bind.from()).contains("builder");
        assertThat(bind.source()).contains("/out");
        assertThat(bind.readOnly()).isFalse();
        RunMount secret = run.mounts().get(2);
        assertThat(secret.type()).isEqualTo("secret");
        assertThat(secret.readOnly()).isTrue();
        assertThat(secret.raw()).isEqualTo("type=secret,id=npmrc");
    }

    @Test
    void bindMountsAreReadOnlyByDefaultAndTypesAreChecked() throws Exception {
        assertThat(RunMount.parse("target=/src").readOnly()).isTrue();
        assertThat(RunMount.parse("target=/src").type()).isEqualTo("bind");
        assertThat(RunMount.parse("type=bind,\"src=a,b\",dst=/x").source()).contains("a,b");
        assertThatThrownBy(() -> RunMount.parse("type=volume,target=/x"))
                .isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("unsupported mount type \"volume\"");
        assertThatThrownBy(() -> RunMount.parse("type=cache")).hasMessageContaining("needs a target");
        assertThatThrownBy(() -> RunMount.parse("type=cache,target=/x,colour=red"))
                .hasMessageContaining("unexpected key 'colour'");
    }

    @Test
    void exposeUserVolumeShellStopsignalMaintainer() throws Exception {
        List<Instruction> body = only("""
                FROM alpine
                EXPOSE 80/tcp 443 ${PORT}
                USER app:app
                VOLUME ["/data", "/logs"]
                VOLUME /a /b
                SHELL ["powershell", "-command"]
                STOPSIGNAL SIGKILL
                MAINTAINER Jane Doe <jane@example.com>
                """);
        assertThat(((Instruction.Expose) body.get(0)).ports()).containsExactly("80/tcp", "443", "${PORT}");
        assertThat(((Instruction.User) body.get(1)).user()).isEqualTo("app:app");
        assertThat(((Instruction.Volume) body.get(2)).paths()).containsExactly("/data", "/logs");
        assertThat(((Instruction.Volume) body.get(3)).paths()).containsExactly("/a", "/b");
        assertThat(((Instruction.Shell) body.get(4)).shell()).containsExactly("powershell", "-command");
        assertThat(((Instruction.StopSignal) body.get(5)).signal()).isEqualTo("SIGKILL");
        assertThat(((Instruction.Maintainer) body.get(6)).name()).isEqualTo("Jane Doe <jane@example.com>");
    }

    @Test
    void healthcheck() throws Exception {
        Instruction.Healthcheck hc = (Instruction.Healthcheck) first(
                "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1.5s --retries=3 "
                        + "CMD curl -f http://localhost/ || exit 1\n");
        assertThat(hc.none()).isFalse();
        assertThat(hc.test()).containsExactly("CMD-SHELL", "curl -f http://localhost/ || exit 1");
        assertThat(hc.interval()).contains(Duration.ofSeconds(90));
        assertThat(hc.timeout()).contains(Duration.ofMillis(500));
        assertThat(hc.startPeriod()).contains(Duration.ofSeconds(2));
        assertThat(hc.startInterval()).contains(Duration.ofMillis(1500));
        assertThat(hc.retries()).contains(3);

        Instruction.Healthcheck exec = (Instruction.Healthcheck) first("HEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n");
        assertThat(exec.test()).containsExactly("CMD", "/bin/check", "-q");
        assertThat(exec.interval()).isEmpty();

        Instruction.Healthcheck none = (Instruction.Healthcheck) first("HEALTHCHECK NONE\n");
        assertThat(none.none()).isTrue();
        assertThat(none.test()).containsExactly("NONE");

        assertThatThrownBy(() -> first("HEALTHCHECK --interval=soon CMD true\n"))
                .hasMessageStartingWith("Dockerfile:2: HEALTHCHECK: --interval: invalid duration \"soon\"");
        assertThatThrownBy(() -> first("HEALTHCHECK PING x\n"))
                .hasMessage("Dockerfile:2: HEALTHCHECK: unknown type \"PING\" in HEALTHCHECK (try CMD)");
    }

    @Test
    void onbuildParsesItsTrigger() throws Exception {
        Instruction.Onbuild onbuild = (Instruction.Onbuild) first("ONBUILD COPY . /app/src\n");
        assertThat(onbuild.expression()).isEqualTo("COPY . /app/src");
        assertThat(onbuild.trigger()).isInstanceOf(Instruction.Copy.class);
        assertThatThrownBy(() -> first("ONBUILD ONBUILD RUN x\n"))
                .hasMessage("Dockerfile:2: ONBUILD: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        assertThatThrownBy(() -> first("ONBUILD FROM alpine\n"))
                .hasMessage("Dockerfile:2: ONBUILD: FROM isn't allowed as an ONBUILD trigger");
    }

    @Test
    void heredocs() throws Exception {
        List<Instruction> body = only("""
                FROM alpine
                RUN <<EOF
                apk add curl
                echo $HOME
                EOF
                COPY <<-"CONF" /etc/app.conf
                \tkey=${value}
                \tCONF
                RUN python3 <<PY > /out
                print("hi")
                PY
                CMD ["true"]
                """);
        Instruction.Run run = (Instruction.Run) body.get(0);
        assertThat(run.command()).isEqualTo("<<EOF");
        assertThat(run.heredocs()).containsExactly(new Heredoc("EOF", "apk add curl\necho $HOME\n", true, false));
        assertThat(run.original()).isEqualTo("RUN <<EOF\napk add curl\necho $HOME\nEOF");

        Instruction.Copy copy = (Instruction.Copy) body.get(1);
        assertThat(copy.line()).isEqualTo(6);
        assertThat(copy.sources()).containsExactly("<<-\"CONF\"");
        assertThat(copy.dest()).isEqualTo("/etc/app.conf");
        assertThat(copy.heredocs()).containsExactly(new Heredoc("CONF", "key=${value}\n", false, true));

        Instruction.Run python = (Instruction.Run) body.get(2);
        assertThat(python.command()).isEqualTo("python3 <<PY > /out");
        assertThat(python.heredocs()).containsExactly(new Heredoc("PY", "print(\"hi\")\n", true, false));
        assertThat(body.get(3).line()).isEqualTo(12);
    }

    @Test
    void unterminatedHeredocIsAnError() {
        assertThatThrownBy(() -> parse("FROM alpine\nRUN <<EOF\necho hi\n"))
                .hasMessage("Dockerfile:2: RUN: heredoc <<EOF is not terminated: add a line containing only EOF");
    }

    @Test
    void unknownInstructionSuggestsTheClosestOne() {
        assertThatThrownBy(() -> parse("ARG X\n\nFORM alpine\n"))
                .isInstanceOf(DockerfileException.class)
                .hasMessage("Dockerfile:3: unknown instruction: FORM (did you mean FROM?)")
                .satisfies(e -> {
                    DockerfileException de = (DockerfileException) e;
                    assertThat(de.line()).isEqualTo(3);
                    assertThat(de.fileName()).isEqualTo("Dockerfile");
                    assertThat(de.instruction()).isEmpty();
                });
        assertThatThrownBy(() -> parse("FROM alpine\nFOOBAR x\n"))
                .hasMessage("Dockerfile:2: unknown instruction: FOOBAR");
    }

    @Test
    void missingArgumentsNameTheLineAndInstruction() {
        assertThatThrownBy(() -> DockerfileParser.parse(
                        EXAMPLE.replace("COPY --from=builder /app/main .", "COPY --from=builder /app/main"),
                        "build/Dockerfile"))
                .hasMessage("build/Dockerfile:10: COPY: requires at least two arguments, but only one was provided. "
                        + "Destination could not be determined")
                .satisfies(
                        e -> assertThat(((DockerfileException) e).instruction()).contains("COPY"));
        assertThatThrownBy(() -> parse("FROM alpine\nWORKDIR\n"))
                .hasMessage("Dockerfile:2: WORKDIR: requires exactly one argument");
        assertThatThrownBy(() -> parse("FROM alpine\nRUN\n"))
                .hasMessage("Dockerfile:2: RUN: requires at least one argument");
        assertThatThrownBy(() -> parse("FROM alpine AS\n"))
                .hasMessageStartingWith("Dockerfile:1: FROM: requires either one or three arguments");
        assertThatThrownBy(() -> parse("FROM alpine\nENV A=1 B\n"))
                .hasMessage("Dockerfile:2: ENV: syntax error - can't find = in \"B\". Must be of the form: name=value");
        assertThatThrownBy(() -> parse("FROM alpine\nSHELL /bin/bash -c\n"))
                .hasMessageStartingWith("Dockerfile:2: SHELL: requires the arguments to be in JSON form");
    }

    @Test
    void badFlagsAreExplained() {
        assertThatThrownBy(() -> parse("FROM alpine\n\nCOPY --form=builder a b\n"))
                .hasMessage("Dockerfile:3: COPY: unknown flag: --form (accepted: --chmod, --chown, --exclude, --from, "
                        + "--link, --parents)");
        assertThatThrownBy(() -> parse("FROM alpine\nADD --from=x a b\n"))
                .hasMessageStartingWith("Dockerfile:2: ADD: unknown flag: --from");
        assertThatThrownBy(() -> parse("FROM alpine\nCOPY --from a b\n"))
                .hasMessage("Dockerfile:2: COPY: missing a value on flag: --from (write --from=<value>)");
        assertThatThrownBy(() -> parse("FROM alpine\nCOPY --link=maybe a b\n"))
                .hasMessage("Dockerfile:2: COPY: expecting boolean value for flag --link, not: maybe");
        assertThatThrownBy(() -> parse("FROM alpine\nCOPY --from=a --from=b a b\n"))
                .hasMessage("Dockerfile:2: COPY: duplicate flag specified: --from");
        assertThatThrownBy(() -> parse("FROM alpine\nWORKDIR --x=1 /a\n"))
                .hasMessage("Dockerfile:2: WORKDIR: unknown flag: --x (this instruction takes no flags)");
        assertThatThrownBy(() -> parse("FROM alpine\nRUN --network=bridge true\n"))
                .hasMessage("Dockerfile:2: RUN: unsupported --network=bridge (use default, none or host)");
        assertThatThrownBy(() -> parse("FROM alpine\nRUN --mount=type=nfs,target=/x true\n"))
                .hasMessageStartingWith("Dockerfile:2: RUN: unsupported mount type \"nfs\"");
    }

    @Test
    void aDockerfileMustHaveFromFirst() {
        assertThatThrownBy(() -> parse("RUN echo hi\nFROM alpine\n"))
                .hasMessage(
                        "Dockerfile:1: no FROM instruction: a Dockerfile must start with FROM (ARG may come before it)");
        assertThatThrownBy(() -> parse("# nothing\nARG A=1\n"))
                .hasMessage(
                        "Dockerfile:2: no FROM instruction: a Dockerfile must start with FROM (ARG may come before it)");
        assertThatThrownBy(() -> parse("")).hasMessageContaining("no FROM instruction");
    }

    @Test
    void stageNamesAreValidatedAndUnique() {
        assertThatThrownBy(() -> parse("FROM alpine AS 1st\n"))
                .hasMessage("Dockerfile:1: FROM: invalid name for build stage: \"1st\", name can't start with a number "
                        + "or contain symbols");
        assertThatThrownBy(() -> parse("FROM alpine AS a\nFROM alpine AS A\n"))
                .hasMessage("Dockerfile:2: FROM: duplicate stage name \"a\": stage 0 already uses it");
    }

    @Test
    void windowsLineEndingsAndByteOrderMark() throws Exception {
        Dockerfile df = parse("\uFEFF# syntax=docker/dockerfile:1\r\nFROM alpine\r\nRUN a \\\r\n  b\r\n");
        assertThat(df.directives()).containsEntry("syntax", "docker/dockerfile:1");
        assertThat(((Instruction.Run) df.stages().getFirst().instructions().getFirst()).command())
                .isEqualTo("a   b");
    }

    @Test
    void realWorldNodeDockerfile() throws Exception {
        Dockerfile df = parse("""
                # syntax=docker/dockerfile:1.7
                ARG NODE_VERSION=20

                FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-alpine AS deps
                WORKDIR /app
                COPY package.json package-lock.json* ./
                RUN --mount=type=cache,target=/root/.npm \\
                    npm ci --omit=dev

                FROM deps AS build
                COPY . .
                RUN npm run build && \\
                    # strip source maps
                    find dist -name '*.map' -delete

                FROM node:${NODE_VERSION}-alpine
                ENV NODE_ENV=production PORT=3000
                USER node
                COPY --from=deps --chown=node:node /app/node_modules ./node_modules
                COPY --from=build --chown=node:node /app/dist ./dist
                HEALTHCHECK --interval=30s CMD wget -qO- http://localhost:$PORT/health || exit 1
                EXPOSE $PORT
                ENTRYPOINT ["node", "dist/server.js"]
                """);
        assertThat(df.directives()).containsEntry("syntax", "docker/dockerfile:1.7");
        assertThat(df.stages()).extracting(Stage::displayName).containsExactly("deps", "build", "stage-2");
        Instruction.Run build =
                (Instruction.Run) df.stages().get(1).instructions().get(1);
        assertThat(build.line()).isEqualTo(12);
        assertThat(build.command()).isEqualTo("npm run build &&     find dist -name '*.map' -delete");
        StageGraph graph = StageGraph.build(df, Optional.empty());
        assertThat(graph.reachable()).containsExactly(0, 1, 2);
        assertThat(graph.baseImage(2)).contains("node:20-alpine");
        assertThat(graph.pathsCopiedFrom(0)).containsExactly("/app/node_modules");
        assertThat(graph.pathsCopiedFrom(1)).containsExactly("/app/dist");
    }
}
