package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A farm of separate processes: a flooding RUN reaches the client clipped, and operators see runc warnings. */
@Tag("e2e")
class SandboxEndToEndTest {

    private static final String CLIPPED = "[output clipped, log limit 2MiB reached]";

    @TempDir
    Path dir;

    @Test
    void aFloodingStepIsClippedAndTheNextStepStillRuns() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM busybox
                RUN yes | head -c 50000000
                RUN echo after-the-flood
                """);
        try (Farm farm = new Farm(dir, "w1")) {
            Farm.Result r = farm.build("--progress", "plain", ctx.toString()).assertOk();

            assertThat(r.output()).contains(CLIPPED);
            assertThat(r.output().indexOf(CLIPPED)).isEqualTo(r.output().lastIndexOf(CLIPPED));
            assertThat(r.output()).contains("after-the-flood");
            // 2 MiB of "y\n" is 1048576 lines; the client prints each as "#N y"
            long floodLines =
                    r.output().lines().filter(l -> l.matches("#\\d+ y")).count();
            assertThat(floodLines)
                    .as("lines of the 50 MB flood the client received")
                    .isEqualTo(1024 * 1024);

            Process workers = new ProcessBuilder(Farm.LAUNCHER.toString(), "workers", "--coordinator", farm.coordinator)
                    .redirectErrorStream(true)
                    .start();
            String listed = new String(workers.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(workers.waitFor(60, TimeUnit.SECONDS)).isTrue();
            List<String> lines = listed.lines().toList();
            assertThat(lines).anyMatch(l -> l.startsWith("w1 "));
            String runc = new String(
                    new ProcessBuilder("runc", "--version")
                            .start()
                            .getInputStream()
                            .readAllBytes(),
                    StandardCharsets.UTF_8);
            if (runc.contains("version 1.1.")) {
                // this machine's runc lacks the 2025 fixes: the worker says so to operators
                assertThat(lines).anyMatch(l -> l.startsWith("  warning: runc ") && l.contains("CVE-2025-31133"));
            }
        }
    }
}
