package dev.stagefarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.worker.exec.RuncExecutor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real worker's directories: what holds every team's files and the steps' secrets is the
 * worker's alone (0700), and bundles a killed worker left in memory are gone once a worker starts.
 */
@Tag("root")
class WorkerNodeDirectoriesTest {

    /** {@code BundleOwner.OWNER_FILE}: a bundle directory's claim, naming its worker. */
    private static final String OWNER_FILE = ".owner";

    @TempDir
    Path tmp;

    @Test
    void theWorkersDirectoriesAreItsOwnAndADeadWorkersBundlesAreRemovedAtStart() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("worker")).toRealPath();
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path bundles = RuncExecutor.Config.defaults(root).bundlesDir();
        // what a worker killed with SIGKILL leaves: its claim (its lock died with it) and a bundle
        Path dead = bundles.resolveSibling("stagefarm-bundles-test-dead-" + UUID.randomUUID());
        Files.createDirectories(dead.resolve("sf-step"));
        Files.writeString(dead.resolve(OWNER_FILE), tmp.resolve("gone/runc") + "\n");
        Files.writeString(dead.resolve("sf-step/config.json"), "{\"process\":{\"env\":[\"TOKEN=secret\"]}}");

        WorkerNode node = new WorkerNode(
                WorkerNode.Config.builder("w1", "127.0.0.1:9", "127.0.0.1:9", root, RegistryConfig.defaults(), 1)
                        .build(),
                new SimpleMeterRegistry());
        try {
            for (Path dir : new Path[] {root, root.resolve("runc"), root.resolve("snapshots"), bundles}) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
                        .as("mode of %s", dir)
                        .isEqualTo("rwx------");
            }
            assertThat(Files.readString(bundles.resolve(OWNER_FILE)).strip())
                    .isEqualTo(root.resolve("runc").toString());
            assertThat(dead).as("bundles of a dead worker").doesNotExist();
        } finally {
            node.close();
        }
    }
}
