package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stage whose layers no stage takes (only a file is copied from it) reports its result before
 * its last layer is stored, so that the build goes on meanwhile, with real workers and runc. The
 * layer is still stored: a build right after finds the step cached. The coordinator holds such a
 * lookup until the worker says the layer is stored (ResultBeforeStoreTest shows that wait step by
 * step); here the layer is large (60 MB of random bytes), so that its store may still run when
 * the second build is planned.
 */
@Tag("e2e")
class StoreAfterResultEndToEndTest {

    private static final String BIG_RUN = "RUN dd if=/dev/urandom of=/big bs=1048576 count=60";

    @TempDir
    Path dir;

    @Test
    void aBuildRightAfterAnotherFindsTheStepStoredAfterItsResultCached() throws Exception {
        Path ctx = context();
        try (Farm farm = new Farm(dir, "w1")) {
            String nonce = "NONCE=" + System.nanoTime();
            String first = farm.build("--progress=plain", "--build-arg", nonce, ctx.toString())
                    .assertOk()
                    .output();
            assertThat(stepCached(first))
                    .as("the first build runs the step:%n%s", first)
                    .isFalse();

            String second = farm.build("--progress=plain", "--build-arg", nonce, ctx.toString())
                    .assertOk()
                    .output();
            assertThat(stepCached(second))
                    .as("the build right after finds the step cached:%n%s", second)
                    .isTrue();
        }
    }

    /**
     * The embedded farm (no {@code --coordinator}) ends with its build's process: it closes only
     * once the layer is stored, so the next build, another process on the same data, finds it.
     */
    @Test
    void onTheEmbeddedFarmTheNextBuildFindsTheStepCachedToo() throws Exception {
        Tools.requireAll();
        Path ctx = context();
        String nonce = "NONCE=" + System.nanoTime();
        String first = embeddedBuild(ctx, nonce);
        assertThat(stepCached(first))
                .as("the first build runs the step:%n%s", first)
                .isFalse();

        String second = embeddedBuild(ctx, nonce);
        assertThat(stepCached(second))
                .as("the next embedded build finds the step cached:%n%s", second)
                .isTrue();
    }

    private Path context() throws IOException {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM busybox AS big
                ARG NONCE
                %s 2>/dev/null && echo "$NONCE" > /small

                FROM busybox
                COPY --from=big /small /small
                """.formatted(BIG_RUN));
        return ctx;
    }

    private String embeddedBuild(Path ctx, String buildArg) throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "embedded", ".log");
        ProcessBuilder pb = new ProcessBuilder(
                        Farm.LAUNCHER.toString(),
                        "build",
                        "--progress=plain",
                        "--data",
                        dir.resolve("embedded").toString(),
                        "--registry-mirror",
                        "docker.io=http://" + Farm.REGISTRY,
                        "--insecure-registry",
                        Farm.REGISTRY,
                        "--build-arg",
                        buildArg,
                        ctx.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("STAGEFARM_TOKEN");
        pb.environment().put("STAGEFARM_CONFIG", "/nonexistent/stagefarm-e2e.properties");
        pb.environment()
                .put("STAGEFARM_SOCKET_DIR", dir.resolve("no-local-farm").toString());
        Process p = pb.start();
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(done && p.exitValue() == 0)
                .as("the embedded build succeeds:%n%s", output)
                .isTrue();
        return output;
    }

    private static boolean stepCached(String output) {
        String line = output.lines()
                .filter(l -> l.contains(BIG_RUN))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no step " + BIG_RUN + " in:\n" + output));
        String id = line.substring(0, line.indexOf(' '));
        return output.contains("\n" + id + " CACHED\n");
    }
}
