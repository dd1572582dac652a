package dev.stagefarm.worker.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.RunMount;
import dev.stagefarm.proto.farm.SecretMount;
import dev.stagefarm.worker.exec.BusyboxRootfs;
import dev.stagefarm.worker.exec.ExecResult;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secret given to a RUN as a file and as an environment variable is never written to a persistent
 * file: the worker root is grepped for it while the step runs and after.
 */
@Tag("root")
class SecretsAtRestTest {

    @TempDir
    Path tmp;

    @Test
    void noSecretRestsOnDiskWhileTheStepRunsOrAfter() throws Exception {
        Path workerRoot = tmp.resolve("worker");
        RuncExecutor.Config config = RuncExecutor.Config.defaults(workerRoot);
        RuncExecutor runc = RuncExecutor.open(config);
        RunMounts mounts = new RunMounts(
                workerRoot.resolve("cache-mounts"), workerRoot.resolve("run-scratch"), null, null, null, null);
        Path rootfs = BusyboxRootfs.create(Files.createDirectories(workerRoot.resolve("rootfs")));
        byte[] random = new byte[16];
        ThreadLocalRandom.current().nextBytes(random);
        String secret = "sf-secret-" + HexFormat.of().formatHex(random);
        Job job = Job.newBuilder()
                .putSecrets("token", ByteString.copyFromUtf8(secret))
                .build();
        List<RunMount> specs = List.of(
                RunMount.newBuilder()
                        .setTarget("/run/secrets/token")
                        .setSecret(SecretMount.newBuilder().setId("token"))
                        .build(),
                RunMount.newBuilder()
                        .setSecret(SecretMount.newBuilder().setId("token").setEnv("TOKEN"))
                        .build());
        List<String> out = new ArrayList<>();

        CompletableFuture<ExecResult> step;
        try (RunMounts.Prepared p = mounts.prepare(job, specs, new AtomicLong())) {
            step = CompletableFuture.supplyAsync(() -> {
                try {
                    return runc.run(
                            rootfs,
                            new ProcessSpec(
                                    List.of(
                                            "sh",
                                            "-c",
                                            "[ \"$TOKEN\" = \"$(cat /run/secrets/token)\" ] && echo same; sleep 4"),
                                    p.secretEnv,
                                    "/",
                                    "",
                                    ProcessSpec.NETWORK_NONE,
                                    p.mounts),
                            out::add,
                            Duration.ofSeconds(60));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            // the step has read its secret and sleeps: look while it runs
            await("the step running with its secret")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> out.contains("same"));

            assertThat(filesHolding(workerRoot, secret))
                    .as("files under the worker root, while the step runs")
                    .isEmpty();
            List<Path> inMemory = filesHolding(config.bundlesDir(), secret);
            assertThat(inMemory)
                    .as("the bundle's config.json holds the env= secret")
                    .isNotEmpty();
            for (Path f : inMemory) {
                assertThat(Files.getFileStore(f).type())
                        .as("file system of %s", f)
                        .isEqualTo("tmpfs");
            }
            assertThat(step.get().exitCode()).isZero();
        }

        assertThat(out).containsExactly("same");
        assertThat(filesHolding(workerRoot, secret))
                .as("files under the worker root, after the step")
                .isEmpty();
        assertThat(filesHolding(config.bundlesDir(), secret))
                .as("bundles, after the step")
                .isEmpty();
        assertThat(mode(config.bundlesDir())).isEqualTo("rwx------");
        assertThat(mode(config.stateDir())).isEqualTo("rwx------");
    }

    private static List<Path> filesHolding(Path root, String value) throws IOException {
        byte[] needle = value.getBytes(StandardCharsets.UTF_8);
        List<Path> hits = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path f : walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .toList()) {
                try {
                    if (indexOf(Files.readAllBytes(f), needle) >= 0) {
                        hits.add(f);
                    }
                } catch (IOException e) {
                    // a file that went away while we looked: it holds nothing now
                }
            }
        }
        return hits;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String mode(Path dir) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(dir));
    }
}
