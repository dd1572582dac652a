package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.testing.HandWrittenTar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * buildx's flags on a farm of processes, through the launcher: {@code -o type=local|tar} of a hostile
 * image, {@code --load} into the private dockerd with {@code -q} and {@code --iidfile},
 * {@code --push}, {@code --build-context} (a directory with links and ".." out of it, an image that
 * replaces a stage), and the warning of a build without output.
 */
@Tag("e2e")
class BuildxFlagsEndToEndTest {

    /** The private engine deploy/dev/dockerd.sh starts. */
    private static final String DOCKER_HOST = "unix:///run/stagefarm-dev/docker.sock";

    @TempDir
    static Path dir;

    static Farm farm;
    static String nonce;

    @BeforeAll
    static void start() throws Exception {
        nonce = UUID.randomUUID().toString().substring(0, 8);
        farm = new Farm(dir.resolve("farm"), "w1");
    }

    @AfterAll
    static void stop() throws Exception {
        if (farm != null) {
            farm.close();
        }
    }

    /** stdout and stderr apart, as -q needs them. */
    record Run(int exitCode, String stdout, String stderr) {}

    private static Run stagefarm(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Farm.LAUNCHER.toString(),
                "build",
                "--coordinator",
                farm.coordinator,
                "--insecure-registry",
                Farm.REGISTRY));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".log");
        Path err = Files.createTempFile(dir, "err", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("DOCKER_HOST", DOCKER_HOST);
        pb.environment().remove("STAGEFARM_TOKEN");
        pb.environment().put("STAGEFARM_CONFIG", "/nonexistent/stagefarm-e2e.properties");
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        Run run = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        System.out.println("---- stagefarm build " + String.join(" ", args) + "\n" + run.stdout() + run.stderr());
        return run;
    }

    private static Path context(String name, String dockerfile) throws IOException {
        Path ctx = Files.createDirectories(dir.resolve(name));
        Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
        return ctx;
    }

    @Test
    void aHostileImageExportedToADirectoryOrATarNeverWritesOutsideIt() throws Exception {
        Path host = Files.createDirectories(dir.resolve("host-" + nonce));
        String repo = "stagefarm-e2e/hostile-rootfs";
        // layers as a build author can push them: links out of the root, then files "under" them
        RawImagePush.push(
                repo,
                nonce,
                List.of(
                        new HandWrittenTar()
                                .symlink("x", "/")
                                .symlink("e", "/etc")
                                .symlink("h", host.toString()),
                        new HandWrittenTar()
                                .file("x/etc/sf-e2e-" + nonce, "through x\n")
                                .file("e/sf-e2e-e-" + nonce, "through e\n")
                                .file("h/sentinel", "through h\n")
                                .file("../../../sf-e2e-dotdot-" + nonce, "dotdot\n")));
        Path ctx = context("hostile", "FROM " + Farm.REGISTRY + "/" + repo + ":" + nonce + "\n");
        Path out = dir.resolve("local-out");
        Path tar = dir.resolve("fs.tar");

        Run run = stagefarm("-o", "type=local,dest=" + out, "-o", "type=tar,dest=" + tar, ctx.toString());

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(out.resolve("etc/sf-e2e-" + nonce)).hasContent("through x");
        assertThat(out.resolve("etc/sf-e2e-e-" + nonce)).hasContent("through e");
        assertThat(out.resolve(host.toString().substring(1)).resolve("sentinel"))
                .hasContent("through h");
        assertThat(out.resolve("sf-e2e-dotdot-" + nonce)).hasContent("dotdot");
        assertThat(Path.of("/etc/sf-e2e-" + nonce)).doesNotExist();
        assertThat(Path.of("/etc/sf-e2e-e-" + nonce)).doesNotExist();
        assertThat(Path.of("/sf-e2e-dotdot-" + nonce)).doesNotExist();
        assertThat(host.resolve("sentinel")).doesNotExist();
        assertThat(Files.readSymbolicLink(out.resolve("x"))).isEqualTo(Path.of("/"));

        String listing = Tools.run(dir, "tar", "-tvf", tar.toString());
        assertThat(listing)
                .contains("etc/sf-e2e-" + nonce, "x -> /", "e -> /etc", "sf-e2e-dotdot-" + nonce)
                .doesNotContain("x/etc");
        assertThat(Path.of("/etc/sf-e2e-" + nonce)).doesNotExist();
    }

    @Test
    void loadQuietAndIidfileGiveTheImageIdDockerShows() throws Exception {
        Tools.run(dir, "docker", "-H", DOCKER_HOST, "info");
        String tag = "stagefarm-e2e/buildx-load:" + nonce;
        Path ctx = context("load", "FROM busybox\nRUN echo loaded-" + nonce + " > /proof\nCMD [\"cat\", \"/proof\"]\n");
        Path iid = dir.resolve("iid/image.id");

        Run run = stagefarm("-q", "--load", "--iidfile", iid.toString(), "-t", tag, ctx.toString());

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        String id = Files.readString(iid);
        assertThat(id).matches("sha256:[0-9a-f]{64}");
        assertThat(run.stdout()).as("-q prints the image id alone").isEqualTo(id + "\n");
        String inspected = Tools.run(dir, "docker", "-H", DOCKER_HOST, "image", "inspect", tag, "--format", "{{.Id}}");
        assertThat(inspected.strip()).isEqualTo(id);
        String ran = Tools.run(dir, "docker", "-H", DOCKER_HOST, "run", "--rm", "--network", "none", tag);
        assertThat(ran).contains("loaded-" + nonce);
        Tools.run(dir, "docker", "-H", DOCKER_HOST, "rmi", "-f", tag);
    }

    @Test
    void loadIntoAnEngineThatIsNotThereSaysWhatToDo() throws Exception {
        Path ctx = context("noengine", "FROM busybox\n");
        List<String> cmd =
                List.of(Farm.LAUNCHER.toString(), "build", "--coordinator", farm.coordinator, "--load", ctx.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DOCKER_HOST", "unix://" + dir.resolve("no-docker.sock"));
        pb.environment().put("STAGEFARM_CONFIG", "/nonexistent/stagefarm-e2e.properties");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isEqualTo(1);
        assertThat(output)
                .contains("error: cannot load into the Docker engine at unix://" + dir.resolve("no-docker.sock"))
                .contains("start Docker or point DOCKER_HOST at it")
                .doesNotContain("\tat ");
    }

    @Test
    void pushSendsEveryTagAndABuildWithoutOutputSaysItStaysInTheCache() throws Exception {
        Path ctx = context("push", "FROM busybox\nRUN echo pushed-" + nonce + " > /proof\n");
        String repo = "stagefarm-e2e/buildx-push";

        Run pushed = stagefarm(
                "--push",
                "-t",
                Farm.REGISTRY + "/" + repo + ":" + nonce,
                "-t",
                Farm.REGISTRY + "/" + repo + ":b-" + nonce,
                ctx.toString());
        assertThat(pushed.exitCode()).as(pushed.stderr()).isZero();
        assertThat(RawImagePush.exists(repo, nonce)).isTrue();
        assertThat(RawImagePush.exists(repo, "b-" + nonce)).isTrue();
        assertThat(pushed.stderr()).doesNotContain("No output specified");

        Run cacheOnly = stagefarm(ctx.toString());
        assertThat(cacheOnly.exitCode()).isZero();
        assertThat(cacheOnly.stderr())
                .contains("WARNING: No output specified. Build result will only remain in the build cache.");
    }

    @Test
    void buildContextsReplaceNamesAndStayInsideTheirDirectory() throws Exception {
        Path assets = dir.resolve("assets");
        Files.createDirectories(assets.resolve("sub"));
        Files.writeString(assets.resolve("sub/b.txt"), "deep-" + nonce + "\n");
        Files.writeString(dir.resolve("assets/a.txt"), "asset-" + nonce + "\n");
        Path outside = Files.writeString(dir.resolve("outside-secret.txt"), "outside-" + nonce + "\n");
        Files.createSymbolicLink(dir.resolve("assets/leak"), outside);
        Files.createSymbolicLink(dir.resolve("assets/etc-link"), Path.of("/etc"));
        String good = """
                FROM busybox AS base
                RUN echo built-base > /marker

                FROM base
                COPY --from=assets a.txt /a.txt
                COPY --from=assets sub /sub
                """;
        Path out = dir.resolve("ctx-out");

        Run run = stagefarm(
                "--build-context",
                "assets=" + dir.resolve("assets"),
                "--build-context",
                "base=docker-image://alpine",
                "-o",
                "type=local,dest=" + out,
                context("ctx-good", good).toString());

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(out.resolve("a.txt")).hasContent("asset-" + nonce);
        assertThat(out.resolve("sub/b.txt")).hasContent("deep-" + nonce);
        assertThat(out.resolve("marker"))
                .as("the stage named base was replaced, never built")
                .doesNotExist();
        assertThat(out.resolve("etc/os-release")).content().contains("alpine");

        for (String hostile :
                List.of("leak", "etc-link/hostname", "../outside-secret.txt", "../../../../etc/hostname")) {
            Path escaped = dir.resolve("ctx-escape-" + Math.abs(hostile.hashCode()));
            Run refused = stagefarm(
                    "--build-context",
                    "assets=" + dir.resolve("assets"),
                    "-o",
                    "type=local,dest=" + escaped,
                    context(
                                    "ctx-bad-" + Math.abs(hostile.hashCode()),
                                    "FROM busybox\nCOPY --from=assets " + hostile + " /got\n")
                            .toString());
            assertThat(refused.exitCode()).as("COPY --from=assets %s", hostile).isNotZero();
            assertThat(refused.stderr()).contains("\"" + hostile + "\" not found in the build context assets");
            assertThat(escaped.resolve("got")).doesNotExist();
        }

        // FROM a directory: its files are the stage's root; links stay links, never their targets
        Path fromOut = dir.resolve("ctx-from-out");
        Run fromDirectory = stagefarm(
                "--build-context",
                "assets=" + dir.resolve("assets"),
                "-o",
                "type=local,dest=" + fromOut,
                context("ctx-from", "FROM busybox AS tools\nFROM assets\nCOPY --from=tools /bin/busybox /bin/busybox\n")
                        .toString());
        assertThat(fromDirectory.exitCode()).as(fromDirectory.stderr()).isZero();
        assertThat(fromOut.resolve("a.txt")).hasContent("asset-" + nonce);
        assertThat(fromOut.resolve("sub/b.txt")).hasContent("deep-" + nonce);
        assertThat(Files.readSymbolicLink(fromOut.resolve("leak"))).isEqualTo(outside);
        assertThat(Files.readSymbolicLink(fromOut.resolve("etc-link"))).isEqualTo(Path.of("/etc"));
        assertThat(fromOut.resolve("bin/busybox")).isRegularFile();
    }
}
