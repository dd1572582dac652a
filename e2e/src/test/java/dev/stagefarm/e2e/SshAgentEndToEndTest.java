package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --ssh} and {@code RUN --mount=type=ssh}: a step on a worker talks to the ssh agent of
 * the machine that ran {@code stagefarm build}, through the coordinator, and no key reaches the image.
 */
@Tag("e2e")
class SshAgentEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void stepsReachTheClientsAgentsAndKeyFilesGetAPrivateAgent() throws Exception {
        Path defaultKey = key("stagefarm-e2e-default");
        Path deployKey = key("stagefarm-e2e-deploy");
        Path socket = dir.resolve("agent.sock");
        Process agent = new ProcessBuilder("ssh-agent", "-D", "-a", socket.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("agent.log").toFile())
                .start();
        try {
            await("ssh-agent's socket").atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket));
            ProcessBuilder add = new ProcessBuilder("ssh-add", defaultKey.toString()).redirectErrorStream(true);
            add.environment().put("SSH_AUTH_SOCK", socket.toString());
            assertThat(add.start().waitFor()).isZero();

            Path ctx = Path.of("src/test/resources/ssh-agent").toAbsolutePath();
            try (Farm farm = new Farm(dir, "w1")) {
                Path oci = dir.resolve("ssh.oci.tar");
                farm.build(
                                "-t",
                                "ssh:e2e",
                                "--ssh",
                                "default=" + socket,
                                "--ssh",
                                "deploy=" + deployKey,
                                "--output",
                                "type=oci,dest=" + oci,
                                ctx.toString())
                        .assertOk();
                Path rootfs = Images.unpackOci(oci, Files.createDirectories(dir.resolve("unpack")), "e2e")
                        .resolve("rootfs");
                assertThat(Files.readString(rootfs.resolve("default-keys.txt"))).isEqualTo("stagefarm-e2e-default\n");
                assertThat(Files.readString(rootfs.resolve("deploy-keys.txt"))).isEqualTo("stagefarm-e2e-deploy\n");
                assertThat(Files.readString(rootfs.resolve("deploy-sock.txt"))).isEqualTo("1000 600 socket\n");
                // The sockets were mounts: nothing of them, and nothing of the keys, is in the image.
                assertThat(rootfs.resolve("run/deploy.sock"))
                        .satisfiesAnyOf(
                                p -> assertThat(p).doesNotExist(),
                                p -> assertThat(p).isEmptyFile());
                assertThat(rootfs.resolve("run/buildkit/ssh_agent.0"))
                        .satisfiesAnyOf(
                                p -> assertThat(p).doesNotExist(),
                                p -> assertThat(p).isEmptyFile());

                Path required = Files.createDirectories(dir.resolve("required"));
                Files.writeString(
                        required.resolve("Dockerfile"), "FROM busybox\nRUN --mount=type=ssh,required=true true\n");
                Farm.Result refused = farm.build(required.toString());
                assertThat(refused.exitCode()).isNotZero();
                assertThat(refused.output()).contains("ssh agent \"default\" is required", "--ssh default");
            }
        } finally {
            agent.destroy();
            agent.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Path key(String comment) throws Exception {
        Path key = dir.resolve(comment);
        Process keygen = new ProcessBuilder(
                        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key.toString())
                .redirectErrorStream(true)
                .start();
        assertThat(keygen.waitFor()).isZero();
        return key;
    }
}
