package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/stagefarm's fast start: {@code build} goes through a thin start to this user's resident
 * client, which runs it warm. What a user must not notice: the output, the exit code, relative
 * paths, Ctrl-C; and what must hold: one user's resident client is no one else's.
 */
@Tag("e2e")
class ResidentClientEndToEndTest {

    private static final int NOBODY = 65534;

    @TempDir
    Path dir;

    private Path sockets;
    private Path runtimeDir;

    @BeforeEach
    void startLocalFarm() throws Exception {
        Tools.requireAll();
        sockets = dir.resolve("run");
        runtimeDir = Files.createDirectory(
                dir.resolve("xdg"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        startFarm();
    }

    private void startFarm() throws IOException, InterruptedException {
        Result started = stagefarm(
                dir,
                Map.of(),
                "farm",
                "start",
                "--data",
                dir.resolve("data").toString(),
                "--workers",
                "1",
                "--registry-mirror",
                "docker.io=http://" + Farm.REGISTRY,
                "--insecure-registry",
                Farm.REGISTRY);
        assertThat(started.exitCode()).as(started.output()).isZero();
    }

    @AfterEach
    void stop() throws Exception {
        stagefarm(dir, Map.of(), "farm", "stop");
        for (Path runtime : List.of(runtimeDir.resolve("stagefarm"), Path.of("/tmp/stagefarm-" + NOBODY))) {
            for (Path pid : pidFiles(runtime)) {
                ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).ifPresent(p -> {
                    p.destroy();
                    p.onExit().join();
                });
                assertThat(pid)
                        .as("a stopped resident client removes its pid file")
                        .doesNotExist();
            }
        }
    }

    @Test
    void aBuildRunsInTheResidentClientWithItsOutputExitCodeAndRelativePaths() throws Exception {
        Path context = Files.createDirectories(dir.resolve("ctx"));
        Files.writeString(context.resolve("hello.txt"), "hello\n");
        Files.writeString(context.resolve("Dockerfile"), "FROM busybox\nCOPY hello.txt /hello.txt\n");

        Result first = stagefarm(dir, Map.of(), "build", "-o", "type=docker,dest=out/image.tar", "ctx");
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output())
                .contains("COPY hello.txt /hello.txt", "#export docker " + dir.resolve("out/image.tar"));
        assertThat(dir.resolve("out/image.tar")).isNotEmptyFile(); // relative to the caller, not to the daemon
        long daemon = daemonPid();

        Result second = stagefarm(dir, Map.of(), "build", "--output=type=docker,dest=again.tar", "ctx");
        assertThat(second.exitCode()).as(second.output()).isZero();
        assertThat(second.output()).contains("CACHED");
        assertThat(dir.resolve("again.tar")).isNotEmptyFile();
        assertThat(daemonPid()).as("both builds ran in one resident client").isEqualTo(daemon);

        // the same image to the same, untouched archive: not written again; once touched, written
        Path tar = dir.resolve("out/image.tar");
        var written = Files.getLastModifiedTime(tar);
        Result same = stagefarm(dir, Map.of(), "build", "-o", "type=docker,dest=out/image.tar", "ctx");
        assertThat(same.output()).contains("#export docker " + tar + " unchanged: it holds this image already");
        assertThat(Files.getLastModifiedTime(tar)).isEqualTo(written);
        Files.writeString(tar, "not an image any more");
        Result rewritten = stagefarm(dir, Map.of(), "build", "-o", "type=docker,dest=out/image.tar", "ctx");
        assertThat(rewritten.output()).contains("#export docker " + tar + " done");
        assertThat(Files.size(tar)).isGreaterThan(1000);

        Files.writeString(context.resolve("Dockerfile"), "FROM busybox\nRUN exit 3\n");
        Result failed = stagefarm(dir, Map.of(), "build", "ctx");
        assertThat(failed.exitCode()).as(failed.output()).isEqualTo(1);
        assertThat(failed.output()).contains("ERROR");

        Result missing = stagefarm(dir, Map.of(), "build", "no-such-dir");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.output()).contains("build context " + dir.resolve("no-such-dir") + " is not a directory");

        Result usage = stagefarm(dir, Map.of(), "build", "--no-such-flag", "ctx");
        assertThat(usage.exitCode()).isEqualTo(2);
        assertThat(usage.output()).contains("Unknown option: '--no-such-flag'");

        // the caller's environment, not the daemon's: a build-arg taken from it by name
        Files.writeString(
                context.resolve("Dockerfile"), "FROM busybox\nARG GREETING\nRUN test \"$GREETING\" = hi-from-env\n");
        Result fromEnv = stagefarm(dir, Map.of("GREETING", "hi-from-env"), "build", "--build-arg", "GREETING", "ctx");
        assertThat(fromEnv.exitCode()).as(fromEnv.output()).isZero();
        assertThat(daemonPid()).isEqualTo(daemon);
    }

    @Test
    void theResidentClientKeepsReachingAFarmThatWasRestartedBetweenItsBuilds() throws Exception {
        Path context = Files.createDirectories(dir.resolve("ctx"));
        Files.writeString(context.resolve("hello.txt"), "hello\n");
        Files.writeString(context.resolve("Dockerfile"), "FROM busybox\nCOPY hello.txt /hello.txt\n");
        Result first = stagefarm(dir, Map.of(), "build", "-o", "type=docker,dest=first.tar", "ctx");
        assertThat(first.exitCode()).as(first.output()).isZero();
        long daemon = daemonPid();

        // the resident client keeps its connections to the farm from one build to the next
        Result stopped = stagefarm(dir, Map.of(), "farm", "stop");
        assertThat(stopped.exitCode()).as(stopped.output()).isZero();
        startFarm();

        Files.writeString(context.resolve("hello.txt"), "hello again\n");
        Result second = stagefarm(dir, Map.of(), "build", "-o", "type=docker,dest=second.tar", "ctx");
        assertThat(second.exitCode()).as(second.output()).isZero();
        assertThat(second.output())
                .as("the changed file went to the restarted farm's cache")
                .contains("1 blobs sent");
        assertThat(dir.resolve("second.tar")).isNotEmptyFile();
        assertThat(daemonPid()).as("both builds ran in one resident client").isEqualTo(daemon);
    }

    @Test
    void ctrlCEndsTheCommandAndCancelsTheBuildOnTheFarm() throws Exception {
        String marker = "marker-" + UUID.randomUUID();
        Path context = Files.createDirectories(dir.resolve("ctx"));
        Files.writeString(context.resolve("Dockerfile"), "FROM busybox\nRUN sleep 120; echo " + marker + "\n");
        Path out = dir.resolve("interrupted.log");
        // its own session and process group, as a shell gives a foreground job: Ctrl-C signals the group
        ProcessBuilder pb = new ProcessBuilder("setsid", Farm.LAUNCHER.toString(), "build", "--progress=plain", "ctx")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        environment(pb, Map.of());
        Process build = pb.start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!stepRuns(marker)) {
            assertThat(System.nanoTime()).as(Files.readString(out)).isLessThan(deadline);
            assertThat(build.isAlive()).as(Files.readString(out)).isTrue();
            Thread.sleep(200);
        }
        new ProcessBuilder("kill", "-INT", "--", "-" + build.pid()).start().waitFor();
        assertThat(build.waitFor(30, TimeUnit.SECONDS))
                .as("the command ends on Ctrl-C")
                .isTrue();
        assertThat(build.exitValue()).as(Files.readString(out)).isEqualTo(130);
        long cancelled = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stepRuns(marker)) {
            assertThat(System.nanoTime())
                    .as("the farm stops the step of a build whose client went away")
                    .isLessThan(cancelled);
            Thread.sleep(200);
        }
        // and the resident client serves the next command
        Result next = stagefarm(dir, Map.of(), "build", "no-such-dir");
        assertThat(next.output()).contains("is not a directory");
    }

    @Test
    void eachUserHasItsOwnResidentClientBehindAPrivateDirectory() throws Exception {
        Result mine = stagefarm(dir, Map.of(), "build", "no-such-dir");
        assertThat(mine.output()).contains("is not a directory");
        Path myDir = runtimeDir.resolve("stagefarm");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(myDir)))
                .isEqualTo("rwx------");
        Path mySocket = Files.list(myDir)
                .filter(p -> p.toString().endsWith(".sock"))
                .findFirst()
                .orElseThrow();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(mySocket)))
                .isEqualTo("rw-------");

        // another user gets a resident client of its own, in its own 0700 directory
        Result theirs = asNobody(Map.of(), "build", "/no-such-dir");
        assertThat(theirs.output()).contains("build context /no-such-dir is not a directory");
        Path theirDir = Path.of("/tmp/stagefarm-" + NOBODY);
        assertThat(Files.getAttribute(theirDir, "unix:uid", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(NOBODY);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(theirDir)))
                .isEqualTo("rwx------");
        List<Path> theirPids = pidFiles(theirDir);
        assertThat(theirPids).hasSize(1);
        long theirDaemon = Long.parseLong(Files.readString(theirPids.getFirst()).strip());
        assertThat(Files.getAttribute(Path.of("/proc/" + theirDaemon), "unix:uid"))
                .isEqualTo(NOBODY);
        assertThat(theirDaemon).isNotEqualTo(daemonPid());

        // pointed at this user's directory, the other user's start refuses it and runs on its own
        Result intruder = asNobody(Map.of("XDG_RUNTIME_DIR", runtimeDir.toString()), "build", "/no-such-dir");
        assertThat(intruder.output())
                .contains("warning: no client daemon: " + runtimeDir.resolve("stagefarm")
                        + " must be a directory of user " + NOBODY)
                .contains("build context /no-such-dir is not a directory");
    }

    private static boolean stepRuns(String marker) throws IOException {
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .anyMatch(p -> {
                        try {
                            return new String(Files.readAllBytes(p.resolve("cmdline"))).contains(marker);
                        } catch (IOException gone) {
                            return false;
                        }
                    });
        }
    }

    private long daemonPid() throws IOException {
        List<Path> pids = pidFiles(runtimeDir.resolve("stagefarm"));
        assertThat(pids).hasSize(1);
        return Long.parseLong(Files.readString(pids.getFirst()).strip());
    }

    private static List<Path> pidFiles(Path runtime) throws IOException {
        if (!Files.isDirectory(runtime)) {
            return List.of();
        }
        try (var files = Files.list(runtime)) {
            return files.filter(p -> p.toString().endsWith(".pid")).toList();
        }
    }

    private Result asNobody(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                "setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", Farm.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(new java.io.File("/tmp"));
        pb.environment().remove("XDG_RUNTIME_DIR");
        pb.environment().put("HOME", "/tmp");
        pb.environment().putAll(env);
        return run(pb, args);
    }

    private Result stagefarm(Path cwd, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Farm.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        environment(pb, env);
        return run(pb, args);
    }

    private void environment(ProcessBuilder pb, Map<String, String> env) {
        pb.environment().put("STAGEFARM_SOCKET_DIR", sockets.toString());
        pb.environment().put("XDG_RUNTIME_DIR", runtimeDir.toString());
        pb.environment().remove("STAGEFARM_NO_DAEMON");
        pb.environment().putAll(env);
    }

    private Result run(ProcessBuilder pb, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "stagefarm", ".log");
        Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        String text = Files.readString(out);
        System.out.println("---- stagefarm " + String.join(" ", args) + "\n" + text);
        return new Result(done ? p.exitValue() : -1, text);
    }

    private record Result(int exitCode, String output) {}
}
