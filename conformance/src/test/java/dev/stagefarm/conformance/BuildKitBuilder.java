package dev.stagefarm.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds a case with the reference builder: BuildKit inside Debian's docker.io dockerd 20.10, the
 * project's private engine (deploy/dev/dockerd.sh). The root filesystem comes from
 * {@code docker create} + {@code docker export}, the config from {@code docker image inspect}.
 * History comes from {@code docker history} (created_by only).
 * Every build runs with {@code --no-cache}, so a file dated before the build started was not
 * written by it (the comparison relies on that to decide which mtimes are meaningful).
 */
final class BuildKitBuilder {

    static final String DOCKER_HOST = "unix:///run/stagefarm-dev/docker.sock";
    /** The 20.10 client from docker.io: BuildKit is built into it (a newer client wants buildx). */
    private static final String DOCKER = "/usr/bin/docker";

    private static final Map<String, String> ENV = Map.of("DOCKER_HOST", DOCKER_HOST, "DOCKER_BUILDKIT", "1");

    /** Fails, never skips, when the engine is not there: the differential part must run in CI. */
    static BuildKitBuilder connect(Path logs) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(DOCKER))) {
            throw new AssertionError(DOCKER + " (docker.io 20.10) is not installed: run deploy/dev/host-deps.sh");
        }
        Files.createDirectories(logs);
        Processes.Result info =
                Processes.run(List.of(DOCKER, "info"), ENV, logs.resolve("docker-info.log"), Duration.ofSeconds(30));
        if (!info.ok()) {
            throw new AssertionError("no Docker engine on " + DOCKER_HOST + ": run deploy/dev/dockerd.sh start\n"
                    + Processes.tail(info.output()));
        }
        return new BuildKitBuilder();
    }

    BuildOutcome build(ConformanceCase c, Path context, Path work) throws IOException, InterruptedException {
        String tag = "stagefarm-conformance/" + c.name() + ":latest";
        List<String> cmd = new ArrayList<>(List.of(
                DOCKER,
                "build",
                "--no-cache",
                "--network=none",
                "--progress=plain",
                "-f",
                context.resolve(c.dockerfile()).toString(),
                "-t",
                tag));
        c.target().ifPresent(t -> cmd.addAll(List.of("--target", t)));
        c.buildArgs().forEach((k, v) -> cmd.addAll(List.of("--build-arg", k + "=" + v)));
        cmd.add(context.toString());
        Instant started = Instant.now();
        Processes.Result result = Processes.run(cmd, ENV, work.resolve("buildkit-build.log"), Duration.ofMinutes(15));
        if (!result.ok()) {
            return new BuildOutcome("BuildKit", result, null);
        }
        String cid = docker(work, "create", tag, "/bin/true")
                .strip()
                .lines()
                .reduce((a, b) -> b)
                .orElseThrow();
        Path rootfs = Files.createDirectories(work.resolve("buildkit-rootfs"));
        try {
            Processes.check(
                    List.of(
                            "bash",
                            "-o",
                            "pipefail",
                            "-c",
                            DOCKER + " export \"$0\" | tar -x --numeric-owner -p -C \"$1\"",
                            cid,
                            rootfs.toString()),
                    ENV,
                    work.resolve("docker-export.log"));
        } finally {
            docker(work, "rm", "-v", cid);
        }
        JsonNode config =
                ConformanceCase.JSON.readTree(docker(work, "image", "inspect", tag, "--format", "{{json .Config}}"));
        return new BuildOutcome("BuildKit", result, new BuiltImage(rootfs, config, history(work, tag), "", started));
    }

    /** created_by of each history entry, oldest first ({@code docker history} lists newest first). */
    private static JsonNode history(Path work, String tag) throws IOException, InterruptedException {
        List<String> lines = docker(work, "history", "--no-trunc", "--format", "{{json .CreatedBy}}", tag)
                .lines()
                .filter(l -> l.startsWith("\""))
                .toList();
        ArrayNode history = ConformanceCase.JSON.createArrayNode();
        for (String line : lines.reversed()) {
            history.addObject()
                    .put("created_by", ConformanceCase.JSON.readTree(line).asText());
        }
        return history;
    }

    private static String docker(Path work, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(DOCKER));
        cmd.addAll(List.of(args));
        return Processes.check(cmd, ENV, Files.createTempFile(work, "docker-", ".log"));
    }
}
