package dev.stagefarm.worker.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactPathsTest {

    @TempDir
    Path root;

    @Test
    void aSymlinkSourceBringsItsTargetSoTheCopyCanFollowItOnAnotherWorker() throws Exception {
        Files.createDirectories(root.resolve("out/lib"));
        Files.writeString(root.resolve("out/real.txt"), "real\n");
        Files.createSymbolicLink(root.resolve("out/link.txt"), Path.of("real.txt"));
        Files.createSymbolicLink(root.resolve("current"), Path.of("/out/lib"));

        assertThat(ArtifactPaths.select(root, List.of("/out/link.txt", "/current")))
                .containsExactly("/out/link.txt", "/current", "out/real.txt", "out/lib");
    }

    @Test
    void globsExpandAndAGlobMatchingNothingFails() throws Exception {
        Files.createDirectories(root.resolve("bin"));
        Files.writeString(root.resolve("bin/a"), "a");
        Files.writeString(root.resolve("bin/b"), "b");

        assertThat(ArtifactPaths.select(root, List.of("/bin/*"))).containsExactly("bin/a", "bin/b");
        assertThatThrownBy(() -> ArtifactPaths.select(root, List.of("/nope/*")))
                .isInstanceOf(StepFailedException.class)
                .hasMessageContaining("matches nothing");
    }
}
