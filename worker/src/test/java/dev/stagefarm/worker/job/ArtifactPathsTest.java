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
                .containsExactly("out/link.txt", "out/real.txt", "current", "out/lib");
    }

    @Test
    void aSymlinkedParentIsFollowedInsideTheStageAndEveryLinkOnTheWayIsExported() throws Exception {
        Files.createDirectories(root.resolve("x"));
        Files.createDirectories(root.resolve("b/etc"));
        Files.writeString(root.resolve("b/etc/conf"), "in stage");
        Files.createSymbolicLink(root.resolve("x/h"), Path.of("/"));
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));

        assertThat(ArtifactPaths.select(root, List.of("/x/h/a/etc/conf"))).containsExactly("x/h", "a", "b/etc/conf");
    }

    @Test
    void aPathThroughALinkToTheWorkersRootIsLookedUpInTheStage() throws Exception {
        Path hostFile = Files.writeString(Files.createTempFile("host", ".txt"), "host secret");
        try {
            Files.createDirectories(root.resolve("x"));
            Files.createSymbolicLink(root.resolve("x/h"), Path.of("/"));
            assertThatThrownBy(() -> ArtifactPaths.select(root, List.of("/x/h" + hostFile)))
                    .isInstanceOf(StepFailedException.class)
                    .hasMessageContaining("does not exist in the stage's filesystem");
        } finally {
            Files.delete(hostFile);
        }
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
