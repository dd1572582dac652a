package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bundle directories (whose config.json holds a step's secrets) of a worker killed with SIGKILL
 * are removed by the next worker that starts on the host, and a live worker's never are. Other
 * workers are real processes ({@link BundleOwnerHolder}): the owner locks are per process.
 */
class BundleOwnerTest {

    @TempDir
    Path base;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void aKilledWorkersBundlesAreRemovedByTheNextWorkerToStart() throws Exception {
        Path dead = base.resolve(BundleOwner.PREFIX + "dead");
        Process killed = holder(dead, "secret-" + UUID.randomUUID());
        killed.destroyForcibly(); // SIGKILL: no cleanup of its own
        assertThat(killed.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(dead.resolve("sf-step/config.json")).exists();

        List<Path> removed = BundleOwner.claim(base.resolve(BundleOwner.PREFIX + "next"), base.resolve("next/runc"));

        assertThat(removed).containsExactly(dead);
        assertThat(dead).doesNotExist();
    }

    @Test
    void aLiveWorkersBundlesAreKeptAndItsDirectoryCannotBeTaken() throws Exception {
        Path live = base.resolve(BundleOwner.PREFIX + "live");
        Process running = holder(live, "secret-" + UUID.randomUUID());

        assertThat(BundleOwner.claim(base.resolve(BundleOwner.PREFIX + "next"), base.resolve("next/runc")))
                .isEmpty();
        assertThat(live.resolve("sf-step/config.json")).exists();
        assertThatThrownBy(() -> BundleOwner.claim(live, base.resolve("other/runc")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("belongs to a running worker (" + base.resolve("live/runc") + ")")
                .hasMessageContaining("give each worker a root directory of its own");
        assertThat(live.resolve("sf-step/config.json")).exists();

        running.getOutputStream().close(); // it ends on its own, and its lock with it
        assertThat(running.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(BundleOwner.claim(base.resolve(BundleOwner.PREFIX + "third"), base.resolve("third/runc")))
                .containsExactly(live);
    }

    @Test
    void workersOfThisProcessKeepTheirBundlesAndDirectoriesWithoutAnOwnerAreLeftAlone() throws Exception {
        Path first = base.resolve(BundleOwner.PREFIX + "first");
        Path second = base.resolve(BundleOwner.PREFIX + "second");
        Path unowned = Files.createDirectories(base.resolve(BundleOwner.PREFIX + "from-an-older-worker/sf-1"));
        BundleOwner.claim(first, base.resolve("first/runc"));
        Files.createDirectories(first.resolve("sf-step"));

        BundleOwner.claim(second, base.resolve("second/runc"));
        // a restart within the process (as the embedded farm's tests do) keeps the claim
        BundleOwner.claim(first, base.resolve("first/runc"));

        assertThat(first.resolve("sf-step")).isDirectory();
        assertThat(second).isDirectory();
        assertThat(unowned).isDirectory();
        assertThat(Files.getPosixFilePermissions(first)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.readString(first.resolve(BundleOwner.OWNER_FILE)).strip())
                .isEqualTo(base.resolve("first/runc").toString());
    }

    /** Another worker process that has claimed {@code dir} and written a bundle into it. */
    private Process holder(Path dir, String secret) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        BundleOwnerHolder.class.getName(),
                        dir.toString(),
                        base.resolve(dir.getFileName().toString().substring(BundleOwner.PREFIX.length()))
                                .resolve("runc")
                                .toString(),
                        secret)
                .redirectErrorStream(true)
                .start();
        children.add(p);
        List<String> said = new ArrayList<>();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.equals(BundleOwnerHolder.CLAIMED)) {
                return p;
            }
            said.add(line);
        }
        throw new AssertionError("the holder process ended without claiming " + dir + ": " + said);
    }
}
