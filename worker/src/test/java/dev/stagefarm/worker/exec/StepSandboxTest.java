package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Docker's default seccomp profile on real runc steps: what a hostile RUN tries, and that a build still works. */
@Tag("root")
class StepSandboxTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    static Path rootfs;
    static RuncExecutor executor;

    @BeforeAll
    static void setUp() throws Exception {
        rootfs = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("rootfs")));
        compileProbe(rootfs.resolve("bin/syscall-probe"));
        executor = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")));
    }

    @Test
    void keyctlBpfAndUserNamespacesAreRefused() throws Exception {
        List<String> out = run("syscall-probe");

        // keyctl and an unprivileged user namespace are allowed by this kernel: only seccomp stops them
        assertThat(out).containsExactly("keyctl=EPERM", "bpf=EPERM", "unshare_user=EPERM", "getpid=ok");
    }

    @Test
    void unshareAndMountFailAsUnderDockerBuild() throws Exception {
        List<String> out = run(
                "sh",
                "-c",
                "unshare -U true 2>/dev/null; echo unshare=$?; mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?");

        assertThat(out).containsExactly("unshare=1", "mount=1");
    }

    @Test
    void anOrdinaryBuildStepStillWorks() throws Exception {
        List<String> out = run(
                "sh",
                "-c",
                "mkdir -p /src && cd /src && printf 'b\\na\\n' > in && sort in > out && chmod 600 out"
                        + " && ln -s out link && cat link | tr '\\n' ' ' && (sleep 0 &) && wait && echo built");

        assertThat(out).containsExactly("a b built");
    }

    private static List<String> run(String... args) throws Exception {
        List<String> out = new ArrayList<>();
        ExecResult r = executor.run(rootfs, ProcessSpec.of(args), out::add, TIMEOUT);
        assertThat(r.exitCode()).as("exit code; output %s", out).isZero();
        return out;
    }

    /** A static binary, so it runs in the busybox rootfs. Never run it on the host: it is a hostile step. */
    static void compileProbe(Path target) throws Exception {
        Path source = tmp.resolve("syscall-probe.c");
        try (InputStream in = StepSandboxTest.class.getResourceAsStream("/syscall-probe.c")) {
            Files.copy(in, source);
        }
        Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-o", target.toString(), source.toString())
                .redirectErrorStream(true)
                .start();
        String log = new String(gcc.getInputStream().readAllBytes());
        assertThat(gcc.waitFor())
                .as("gcc (Debian packages gcc, libc6-dev): %s", log)
                .isZero();
    }
}
