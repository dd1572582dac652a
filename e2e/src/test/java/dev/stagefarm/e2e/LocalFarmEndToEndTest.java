package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm farm start}: one long-lived farm on Unix sockets that every later
 * {@code stagefarm build} without {@code --coordinator} uses, as the Docker CLI uses its daemon.
 */
@Tag("e2e")
class LocalFarmEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void buildsUseTheRunningLocalFarmAndShareItsCache() throws Exception {
        Tools.requireAll();
        Path sockets = dir.resolve("run");
        Path data = dir.resolve("data");
        Path context = dir.resolve("ctx");
        Files.createDirectories(context);
        Files.writeString(context.resolve("hello.txt"), "hello from the local farm\n");
        Files.writeString(context.resolve("Dockerfile"), """
            FROM busybox
            COPY hello.txt /hello.txt
            RUN cat /hello.txt > /copied.txt
            """);
        Result started = stagefarm(
                sockets,
                "farm",
                "start",
                "--data",
                data.toString(),
                "--workers",
                "1",
                "--registry-mirror",
                "docker.io=http://" + Farm.REGISTRY,
                "--insecure-registry",
                Farm.REGISTRY);
        try {
            assertThat(started.exitCode()).as(started.output()).isZero();
            assertThat(started.output()).contains("running at unix:" + sockets.resolve("farm.sock"));
            assertThat(stagefarm(sockets, "farm", "status").output()).contains("running at unix:");

            Result first = stagefarm(sockets, "build", "--progress=plain", context.toString());
            assertThat(first.exitCode()).as(first.output()).isZero();
            assertThat(first.output()).contains("RUN cat /hello.txt").doesNotContain("CACHED");
            // The build ran in the farm's process, on the farm's data, not in an embedded farm of its own.
            assertThat(Files.readString(sockets.resolve("farm.log"))).contains("worker w1");
            assertThat(data.resolve("cache")).isDirectory();

            Result second = stagefarm(sockets, "build", "--progress=plain", context.toString());
            assertThat(second.exitCode()).as(second.output()).isZero();
            assertThat(second.output()).contains("CACHED").doesNotContain("ERROR");

            // An embedded farm on the same data directory would corrupt it: refused with a sentence.
            Result clash = stagefarm(sockets, "build", "--data", data.toString(), context.toString());
            assertThat(clash.exitCode()).isEqualTo(1);
            assertThat(clash.output())
                    .contains("another stagefarm process runs a farm on " + data)
                    .doesNotContain("Exception");
        } finally {
            Result stopped = stagefarm(sockets, "farm", "stop");
            assertThat(stopped.output()).contains("stopped");
        }
        Result status = stagefarm(sockets, "farm", "status");
        assertThat(status.exitCode()).isEqualTo(3);
        assertThat(status.output()).contains("not running");
    }

    private Result stagefarm(Path sockets, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Farm.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "stagefarm", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("STAGEFARM_SOCKET_DIR", sockets.toString());
        Process p = pb.start();
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
