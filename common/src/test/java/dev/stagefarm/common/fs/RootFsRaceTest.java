package dev.stagefarm.common.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two steps sharing a cache mount: one swaps a directory for a symlink to the host as fast as it
 * can while the other writes through it. Whatever the interleaving, nothing outside the root changes.
 */
@Tag("root")
class RootFsRaceTest {

    private static final int ROUNDS = 5_000;

    @TempDir
    Path tmp;

    @Test
    void swappingADirectoryForALinkNeverReachesOutside() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path sentinel = Files.writeString(outside.resolve("f0"), "host file");
        Map<String, Object> sentinelBefore = Files.readAttributes(sentinel, "unix:*", LinkOption.NOFOLLOW_LINKS);
        // where the link's target lands when re-rooted, so writes through the link succeed and are seen
        Path reRooted = Files.createDirectories(root.resolve(outside.toString().substring(1)));
        Files.createDirectories(root.resolve("d"));
        Files.createSymbolicLink(root.resolve("abs"), outside);
        Files.createSymbolicLink(
                root.resolve("rel"),
                Path.of("../../../../../../../..").resolve(outside.toString().substring(1)));

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong swaps = new AtomicLong();
        AtomicLong strays = new AtomicLong();
        Thread swapper = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                try {
                    String link = swaps.get() % 2 == 0 ? "abs" : "rel";
                    Files.move(root.resolve("d"), root.resolve("d.dir"), StandardCopyOption.ATOMIC_MOVE);
                    moveOntoD(root, link, strays);
                    LockSupport.parkNanos(20_000); // hold each state long enough to be met
                    Files.move(root.resolve("d"), root.resolve(link), StandardCopyOption.ATOMIC_MOVE);
                    moveOntoD(root, "d.dir", strays);
                    LockSupport.parkNanos(20_000);
                    swaps.incrementAndGet();
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }
        });

        long succeeded = 0;
        long rounds = 0;
        // as many rounds as it takes for the swapper to have swapped many times: on a loaded
        // machine it may get its first time slice only after thousands of operations
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (RootFs fs = RootFs.open(root)) {
            for (int i = 0; i < ROUNDS || (swaps.get() < 200 && System.nanoTime() < deadline); i++) {
                rounds++;
                String name = "d/f" + (i % 4);
                try {
                    switch (i % 6) {
                        case 0 -> {
                            try (OutputStream out = fs.newOutputStream(name, 0644)) {
                                out.write("overwritten".getBytes());
                            }
                        }
                        case 1 -> fs.mkdirs("d/sub" + (i % 3) + "/deeper", 0755).close();
                        case 2 -> fs.chmod(name, 0777);
                        case 3 -> fs.setTimes(name, 1_000_000, 0);
                        case 4 -> fs.chown(name, 4321, 4321);
                        default -> {
                            try (InputStream in = fs.newInputStream(name)) {
                                in.readAllBytes();
                            }
                        }
                    }
                    succeeded++;
                } catch (IOException e) {
                    // the swap was half way: "not found" is an acceptable answer, escaping is not
                }
            }
        } finally {
            stop.set(true);
            swapper.join();
        }

        try (Stream<Path> s = Files.list(outside)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("f0");
        }
        assertThat(sentinel).hasContent("host file");
        assertThat(Files.readAttributes(sentinel, "unix:*", LinkOption.NOFOLLOW_LINKS))
                .containsAllEntriesOf(Map.of(
                        "mode", sentinelBefore.get("mode"),
                        "uid", sentinelBefore.get("uid"),
                        "gid", sentinelBefore.get("gid"),
                        "lastModifiedTime", sentinelBefore.get("lastModifiedTime")));
        assertThat(swaps.get()).as("the swapper ran throughout").isGreaterThan(100);
        assertThat(succeeded).as("most operations found a directory").isGreaterThan(rounds / 10);
        try (Stream<Path> s = Files.walk(reRooted)) {
            assertThat(s.count() - 1)
                    .as("some went through the link, re-rooted")
                    .isPositive();
        }
    }

    /**
     * Renames {@code from} to {@code d}. While {@code d} is away, the resolver's mkdirs may
     * rightly create a new {@code d} (it is inside the root): that one is moved aside first.
     */
    private static void moveOntoD(Path root, String from, AtomicLong strays) throws IOException {
        while (true) {
            try {
                Files.move(root.resolve(from), root.resolve("d"), StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (FileSystemException e) {
                Files.move(
                        root.resolve("d"),
                        root.resolve("stray" + strays.incrementAndGet()),
                        StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }
}
