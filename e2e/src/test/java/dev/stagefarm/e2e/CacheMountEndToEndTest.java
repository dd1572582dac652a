package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RUN --mount=type=cache follows the team from worker to worker through the cache-server. */
@Tag("e2e")
class CacheMountEndToEndTest {

    private static final String GO_DOCKERFILE = """
        FROM golang:latest
        WORKDIR /src
        COPY . .
        RUN --mount=type=cache,id=go,target=/root/.cache/go-build \\
            echo "cache-files-before=$(find /root/.cache/go-build -type f | wc -l)" \\
            && go build -x -o /usr/local/bin/app . 2> /tmp/build.log \\
            && echo "compiles=$(grep -c '/compile ' /tmp/build.log || true)" \\
            && /usr/local/bin/app
        """;

    @TempDir
    Path dir;

    @Test
    void aFreshWorkerFindsTheGoBuildCacheAnotherWorkerFilled() throws Exception {
        Path ctx = goContext("first");
        try (Farm farm = new Farm(dir, "w1")) {
            Farm.Result first =
                    farm.build("--progress", "plain", ctx.toString()).assertOk();
            assertThat(number(first, "cache-files-before"))
                    .as("nothing was ever cached")
                    .isZero();
            int coldCompiles = number(first, "compiles");
            assertThat(first.output()).contains("hello from first");
            assertThat(cli("cache", "mounts", "--cache", farm.cache))
                    .as("the team's mounts")
                    .containsPattern("(?m)^go\\s+1\\s+[1-9]\\d*\\s");

            // the worker that filled the cache leaves; a worker that never built anything takes over
            farm.stop("w1");
            farm.startWorker("w2");
            farm.awaitWorkers("w2");
            Files.writeString(ctx.resolve("main.go"), mainGo("second"));
            Farm.Result second =
                    farm.build("--progress", "plain", ctx.toString()).assertOk();

            assertThat(second.output()).contains("hello from second").contains("(on w2)");
            assertThat(number(second, "cache-files-before"))
                    .as("w2 started with w1's Go build cache")
                    .isPositive();
            assertThat(number(second, "compiles"))
                    .as("only the changed main package is compiled again")
                    .isLessThan(coldCompiles)
                    .isLessThanOrEqualTo(2);
        }
    }

    @Test
    void aKilledWorkersLockedCacheMountIsFreedForTheOtherWorker() throws Exception {
        Path holderCtx = Files.createDirectories(dir.resolve("holder"));
        Files.writeString(holderCtx.resolve("Dockerfile"), """
            FROM busybox:latest
            RUN --mount=type=cache,id=lock,target=/c,sharing=locked echo holder >> /c/log && sleep 30
            """);
        Path waiterCtx = Files.createDirectories(dir.resolve("waiter"));
        // another base image, so the scheduler's locality does not send it to the busy worker
        Files.writeString(waiterCtx.resolve("Dockerfile"), """
            FROM debian:bookworm-slim
            RUN --mount=type=cache,id=lock,target=/c,sharing=locked echo "waiter saw: [$(cat /c/log 2>/dev/null)]" \\
                && echo waiter >> /c/log
            """);
        try (Farm farm = new Farm(dir, "w1")) {
            Path holderOut = dir.resolve("holder.log");
            Process holder = farm.startBuild(holderOut, "--progress", "plain", "--no-cache", holderCtx.toString());
            Waits.awaitMatch(holderOut, Pattern.compile("RUN echo holder.*\\(on (w1)\\)"), Duration.ofMinutes(3));
            farm.startWorker("w2");
            farm.awaitWorkers("w2");

            Path waiterOut = dir.resolve("waiter.log");
            Process waiter = farm.startBuild(waiterOut, "--progress", "plain", "--no-cache", waiterCtx.toString());
            Waits.awaitMatch(
                    dir.resolve("logs/w2.log"),
                    Pattern.compile("cache mount (lock) is locked by another step"),
                    Duration.ofMinutes(3));

            Instant killed = Instant.now();
            farm.kill("w1");
            Farm.Result result = farm.await(waiter, waiterOut).assertOk();
            Duration waited = Duration.between(killed, Instant.now());

            assertThat(waited)
                    .as("the lease died with its worker (a lease that outlived it would block forever)")
                    .isLessThan(Duration.ofSeconds(25));
            assertThat(result.output())
                    .as("the killed step published nothing")
                    .contains("waiter saw: []")
                    .doesNotContain("waiter saw: holder");
            // the holder's job fails over to w2, where it takes the lease in turn
            farm.await(holder, holderOut).assertOk();

            // the killed worker left overlay mounts behind: restarted, it clears them
            Path w1 = dir.resolve("workers/w1").toRealPath();
            farm.startWorker("w1");
            Waits.awaitNoMountsBelow(w1);
        }
    }

    // ---- helpers ----

    /** A module with three packages of its own, so a cold build compiles several and a warm one one. */
    private Path goContext(String greeting) throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("go-ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), GO_DOCKERFILE);
        Files.writeString(ctx.resolve("go.mod"), "module example.com/cachemount\n\ngo 1.19\n");
        for (String pkg : new String[] {"alpha", "beta", "gamma"}) {
            Path p = Files.createDirectories(ctx.resolve("lib").resolve(pkg));
            Files.writeString(p.resolve(pkg + ".go"), """
                package %s

                import (
                    "sort"
                    "strings"
                )

                // Words sorts the words of s.
                func Words(s string) []string {
                    w := strings.Fields(s)
                    sort.Strings(w)
                    return w
                }
                """.formatted(pkg));
        }
        Files.writeString(ctx.resolve("main.go"), mainGo(greeting));
        return ctx;
    }

    private static String mainGo(String greeting) {
        return """
            package main

            import (
                "fmt"

                "example.com/cachemount/lib/alpha"
                "example.com/cachemount/lib/beta"
                "example.com/cachemount/lib/gamma"
            )

            func main() {
                fmt.Println(alpha.Words("b a"), beta.Words("d c"), gamma.Words("f e"))
                fmt.Println("hello from %s")
            }
            """.formatted(greeting);
    }

    /** The number a RUN printed as {@code name=N}. */
    private static int number(Farm.Result result, String name) {
        Matcher m = Pattern.compile(Pattern.quote(name) + "=(\\d+)").matcher(result.output());
        assertThat(m.find())
                .as(name + " in the build output:\n" + result.output())
                .isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** Runs {@code stagefarm ARGS} and returns what it printed; it must succeed. */
    private static String cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Farm.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor())
                .as("stagefarm " + String.join(" ", args) + ":\n" + out)
                .isZero();
        return out;
    }
}
