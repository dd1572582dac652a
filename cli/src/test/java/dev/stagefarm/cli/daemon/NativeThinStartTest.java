package dev.stagefarm.cli.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native thin start (src/main/c/stagefarm-thin.c, built by the {@code native-thin-start}
 * profile where a C compiler is) against a real {@link ClientDaemon}: it finds the daemon the Java
 * thin start names, hands over what the command needs, relays its output and exit code, cancels on
 * Ctrl-C, and trusts no socket directory that others may enter.
 */
class NativeThinStartTest {

    /** Built at compile time; gcc is one of deploy/dev/host-deps.sh's packages. */
    private static final Path BINARY = Path.of("target/stagefarm-thin").toAbsolutePath();

    @TempDir
    Path dir;

    private Path jar;
    private Path runtime;
    private Path socket;

    @BeforeEach
    void paths() throws IOException {
        assertThat(BINARY)
                .as("the native thin start was not built: install a C compiler (gcc) and build again")
                .isExecutable();
        jar = Files.writeString(dir.resolve("stagefarm-cli.jar"), "stands for the CLI's jar");
        runtime = Files.createDirectory(dir.resolve("runtime"));
        Path sockets = Files.createDirectory(
                runtime.resolve("stagefarm"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        socket = sockets.resolve("client-" + ThinClient.key(jar) + ".sock");
    }

    @Test
    void aBuildReachesTheDaemonTheJavaThinStartNamesWithItsDirectoryArgumentsAndEnvironment() throws Exception {
        serve((cwd, args, env) -> {
            System.out.println("cwd=" + cwd);
            System.out.println("args=" + String.join("|", args));
            System.out.println("ASKED=" + env.get("ASKED"));
            System.err.println("on stderr");
            return OptionalInt.of(3);
        });
        Path work = Files.createDirectory(dir.resolve("work dir"));

        Result r = run(work, "build", "--build-arg", "A=b c", "-t", "app:latest", ".");

        assertThat(r.code).as("the command's exit code").isEqualTo(3);
        assertThat(r.stdout)
                .isEqualTo("cwd=" + work + "\nargs=build|--build-arg|A=b c|-t|app:latest|.\nASKED=yes please\n");
        assertThat(r.stderr).isEqualTo("on stderr\n");
    }

    @Test
    void aCommandTheDaemonCannotRunFaithfullyIsHandedBackWithNothingPrinted() throws Exception {
        serve((cwd, args, env) -> OptionalInt.empty());

        Result r = run(dir, "build", "--secret", "id=a,src=f", ".");

        assertThat(r.code).as("DaemonProtocol.FALLBACK_EXIT_CODE").isEqualTo(DaemonProtocol.FALLBACK_EXIT_CODE);
        assertThat(r.stdout + r.stderr).isEmpty();
    }

    @Test
    void ctrlCClosesTheConnectionAndTheDaemonCancelsTheCommand() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        CountDownLatch ended = new CountDownLatch(1);
        serve((cwd, args, env) -> {
            started.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(1));
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
            ended.countDown();
            return OptionalInt.of(0);
        });
        Process client = start(dir, "build", ".");
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        new ProcessBuilder("kill", "-INT", Long.toString(client.pid())).start().waitFor();

        assertThat(client.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue())
                .as("ended by SIGINT, as a shell reports it")
                .isEqualTo(130);
        assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(interrupted).as("the daemon interrupted the build's thread").isTrue();
    }

    @Test
    void aSocketDirectoryOthersMayEnterIsRefusedAndTheLauncherRunsTheCommandItself() throws Exception {
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        AtomicBoolean reached = new AtomicBoolean();
        serve((cwd, args, env) -> {
            reached.set(true);
            return OptionalInt.of(0);
        });

        Result r = run(dir, "build", ".");

        assertThat(r.code).isEqualTo(DaemonProtocol.FALLBACK_EXIT_CODE);
        assertThat(r.stderr)
                .contains(socket.getParent() + " must be a directory of user")
                .contains("mode 0700");
        assertThat(reached)
                .as("whoever could enter the directory may have put that socket there")
                .isFalse();
    }

    @Test
    void aDaemonThatCannotStartIsSaidAndTheLauncherRunsTheCommandItself() throws Exception {
        Path launcher = Files.writeString(dir.resolve("launcher"), "#!/bin/sh\necho 'no JDK here' >&2\nexit 1\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));

        Result r = run(dir, launcher, "build", ".");

        assertThat(r.code).isEqualTo(DaemonProtocol.FALLBACK_EXIT_CODE);
        Path log = socket.resolveSibling(socket.getFileName().toString().replace(".sock", ".log"));
        assertThat(r.stderr).isEqualTo("warning: the stagefarm client daemon did not start (see " + log + ")\n");
        assertThat(Files.readString(log)).isEqualTo("no JDK here\n");
    }

    /**
     * A script that holds a lock runs {@code stagefarm build} (deploy/dev/base-images.sh does): the
     * daemon started for it lives on for half an hour and must not keep the script's files open,
     * or the next run of the script waits for that lock until the daemon exits.
     */
    @Test
    void theDaemonItStartsHoldsNoneOfTheCallersFiles() throws Exception {
        Path open = dir.resolve("fds-of-the-daemon");
        Path launcher =
                Files.writeString(dir.resolve("launcher"), "#!/bin/sh\nls /proc/$$/fd > " + open + "\nexit 1\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
        List<String> command = new ArrayList<>(List.of(
                "bash",
                "-c",
                "exec 9>>\"$0\"; exec \"$@\"",
                dir.resolve("script.lock").toString(),
                BINARY.toString(),
                jar.toString(),
                launcher.toString(),
                System.getProperty("java.home"),
                "build",
                "."));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().put("XDG_RUNTIME_DIR", runtime.toString());

        Process p = pb.start();

        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(DaemonProtocol.FALLBACK_EXIT_CODE);
        assertThat(Files.readAllLines(open))
                .as("the daemon's open files: its stdin, its log twice, its own script; not the caller's lock (9)")
                .contains("0", "1", "2")
                .doesNotContain("3", "4", "9");
    }

    private void serve(ClientDaemon.Runner runner) throws InterruptedException {
        ClientDaemon daemon = new ClientDaemon(socket, Duration.ofMinutes(1), runner);
        Thread.ofPlatform().daemon().start(() -> {
            try {
                daemon.serve();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(socket).exists();
    }

    private record Result(int code, String stdout, String stderr) {}

    private Result run(Path cwd, String... args) throws Exception {
        return run(cwd, Path.of("/bin/false"), args);
    }

    private Result run(Path cwd, Path launcher, String... args) throws Exception {
        Process p = start(cwd, launcher, args);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Result(
                p.exitValue(),
                new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private Process start(Path cwd, String... args) throws IOException {
        return start(cwd, Path.of("/bin/false"), args);
    }

    private Process start(Path cwd, Path launcher, String... args) throws IOException {
        List<String> command = new ArrayList<>(
                List.of(BINARY.toString(), jar.toString(), launcher.toString(), System.getProperty("java.home")));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        Map<String, String> env = pb.environment();
        env.put("XDG_RUNTIME_DIR", runtime.toString());
        env.put("ASKED", "yes please");
        return pb.start();
    }
}
