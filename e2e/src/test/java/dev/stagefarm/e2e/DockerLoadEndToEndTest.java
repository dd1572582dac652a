package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --output type=docker} is a tarball a real Docker engine loads and runs. */
@Tag("e2e")
class DockerLoadEndToEndTest {

    /** The private engine deploy/dev/dockerd.sh starts (bin/test and .ci/run start it). */
    private static final String DOCKER_HOST = "unix:///run/stagefarm-dev/docker.sock";

    @TempDir
    Path dir;

    @Test
    void theDockerTarballLoadsAndServes() throws Exception {
        try {
            docker("info");
        } catch (AssertionError e) {
            throw new AssertionError("no Docker engine on " + DOCKER_HOST + ": run deploy/dev/dockerd.sh start", e);
        }
        try (Farm farm = new Farm(dir, "w1", "w2")) {
            Path tar = dir.resolve("go-web.docker.tar");
            farm.build(
                            "-t",
                            "stagefarm-e2e/go-web:load",
                            "--output",
                            "type=docker,dest=" + tar,
                            Farm.REPO.resolve("examples/go-web").toString())
                    .assertOk();
            assertThat(docker("load", "-i", tar.toString())).contains("Loaded image: stagefarm-e2e/go-web:load");
            assertThat(docker("image", "inspect", "stagefarm-e2e/go-web:load", "--format", "{{json .Config.Cmd}}"))
                    .contains("[\"./main\"]");
            String name = "stagefarm-e2e-" + Long.toHexString(System.nanoTime());
            docker("run", "-d", "--network", "host", "--name", name, "stagefarm-e2e/go-web:load");
            try {
                assertThat(Waits.awaitHttpBody("http://127.0.0.1:8080/", Duration.ofSeconds(20)))
                        .contains("hello from stagefarm");
            } finally {
                docker("rm", "-f", name);
            }
        }
    }

    private String docker(String... args) throws Exception {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "docker";
        cmd[1] = "-H";
        cmd[2] = DOCKER_HOST;
        System.arraycopy(args, 0, cmd, 3, args.length);
        return Tools.run(dir, cmd);
    }
}
