package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two steps sharing a cache mount, one of them hostile: while COPY and ADD run again and again into
 * a directory of the stage and out of a directory of the source, a thread swaps each of them for a
 * link to a canary directory outside both roots, and back. The attacker may win or lose any round
 * (a copy may fail, or land inside the root where the link leads when re-rooted); whatever the
 * interleaving, nothing in the canary is ever written, read, chowned, chmod'ed or re-dated.
 */
@Tag("root")
class CopyRaceTest {

    private static final int MIN_ROUNDS = 1_500;
    private static final int MIN_SWAPS = 100;
    private static final String MARKER = "canary-" + System.nanoTime();

    @TempDir
    Path tmp;

    @Test
    void swappingDirectoriesForLinksNeverReachesTheCanary() throws Exception {
        Path canary = Files.createDirectories(tmp.resolve("canary"));
        Files.writeString(canary.resolve("f"), MARKER);
        Files.writeString(canary.resolve("a"), MARKER);
        Files.createDirectories(canary.resolve("sub"));
        Files.writeString(canary.resolve("sub/f"), MARKER);
        Map<String, Map<String, Object>> before = snapshot(canary);

        Path stage = Files.createDirectories(tmp.resolve("stage"));
        Path context = Files.createDirectories(tmp.resolve("context"));
        for (Path root : List.of(stage, context)) {
            // where the link's target lands when re-rooted: copies through the link succeed, inside
            Path reRooted =
                    Files.createDirectories(root.resolve(canary.toString().substring(1)));
            Files.writeString(reRooted.resolve("f"), "re-rooted, inside");
        }
        Files.createDirectories(stage.resolve("d"));
        Files.createDirectories(context.resolve("s/deeper"));
        Files.writeString(context.resolve("s/f"), "source file");
        Files.writeString(context.resolve("s/deeper/g"), "source file");
        Files.createDirectories(context.resolve("src"));
        Files.writeString(context.resolve("src/a"), "a");
        Files.writeString(context.resolve("src/b"), "b");
        Files.write(context.resolve("pkg.tar"), tar("pkg/x", "f", "sub/y"));

        CopyExecutor copier = new CopyExecutor();
        List<CopyExecutor.Request> requests = List.of(
                request(
                        context,
                        List.of("src/a", "src/b"),
                        "/d/",
                        Optional.of(new Owner(1234, 1234)),
                        Optional.of(0777),
                        false),
                request(context, List.of("src"), "/d/tree", Optional.empty(), Optional.empty(), false),
                request(
                        context,
                        List.of("src/a"),
                        "/d/a",
                        Optional.of(new Owner(4321, 4321)),
                        Optional.of(04755),
                        false),
                request(context, List.of("s/f"), "/out/f", Optional.empty(), Optional.empty(), false),
                request(context, List.of("s"), "/out/tree", Optional.empty(), Optional.empty(), false),
                request(context, List.of("s/*"), "/out/glob/", Optional.empty(), Optional.empty(), false),
                request(context, List.of("pkg.tar"), "/d/", Optional.empty(), Optional.empty(), true));

        Path climb = Path.of("../../../../../../../../../..");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong swaps = new AtomicLong();
        Swapper inStage = new Swapper(stage, "d");
        Swapper inContext = new Swapper(context, "s");
        Thread swapper = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                // an absolute link, then one that climbs with ".." as far as it can
                Path target = swaps.get() % 2 == 0
                        ? canary
                        : climb.resolve(canary.toString().substring(1));
                try {
                    inStage.toLink(target);
                    inContext.toLink(target);
                    LockSupport.parkNanos(20_000); // hold each state long enough to be met
                    inStage.back();
                    inContext.back();
                    LockSupport.parkNanos(20_000);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                swaps.incrementAndGet();
            }
        });

        long rounds = 0;
        long succeeded = 0;
        // as many rounds as it takes for the swapper to have swapped many times: on a loaded machine
        // it may get its first time slice only after many copies
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try {
            while ((rounds < MIN_ROUNDS || swaps.get() < MIN_SWAPS) && System.nanoTime() < deadline) {
                try {
                    copier.copy(requests.get((int) (rounds % requests.size())), stage);
                    succeeded++;
                } catch (IOException | CopyException e) {
                    // the swap was half way: a failed copy is an acceptable answer, escaping is not
                }
                rounds++;
            }
        } finally {
            stop.set(true);
            swapper.join();
        }

        assertThat(snapshot(canary))
                .as("the canary's names, contents, owners, modes and mtimes")
                .isEqualTo(before);
        try (Stream<Path> all = Files.walk(stage)) {
            for (Path p : all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .toList()) {
                assertThat(Files.readString(p))
                        .as("%s holds no byte read from the canary", p)
                        .doesNotContain(MARKER);
            }
        }
        assertThat(swaps.get()).as("the swapper ran throughout").isGreaterThanOrEqualTo(MIN_SWAPS);
        assertThat(succeeded).as("copies ran, not only failed").isPositive();
    }

    /**
     * Swaps {@code name} in {@code root} for a link and back. A copy may rightly change what is there
     * meanwhile (create the name while it is away, fill it): the swapper puts such things aside
     * rather than fail.
     */
    private record Swapper(Path root, String name, AtomicLong aside) {

        Swapper(Path root, String name) {
            this(root, name, new AtomicLong());
        }

        void toLink(Path target) throws IOException {
            moveIfThere(root.resolve(name), root.resolve(name + ".dir"));
            Path link = Files.createSymbolicLink(root.resolve(name + ".link"), target);
            moveOntoName(link);
        }

        void back() throws IOException {
            Path away = root.resolve("aside-" + aside.incrementAndGet());
            moveIfThere(root.resolve(name), away);
            if (Files.isSymbolicLink(away)) {
                Files.delete(away);
            }
            Path dir = root.resolve(name + ".dir");
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(dir);
                Files.createDirectory(dir);
            }
            moveOntoName(dir);
        }

        private void moveOntoName(Path from) throws IOException {
            while (true) {
                try {
                    Files.move(from, root.resolve(name), StandardCopyOption.ATOMIC_MOVE);
                    return;
                } catch (FileSystemException e) {
                    moveIfThere(root.resolve(name), root.resolve("aside-" + aside.incrementAndGet()));
                }
            }
        }

        private static void moveIfThere(Path from, Path to) throws IOException {
            try {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchFileException gone) {
                // nothing there this time
            }
        }
    }

    /** Every path below {@code dir} (itself included) with what a write, chown, chmod or touch would change. */
    private static Map<String, Map<String, Object>> snapshot(Path dir) throws IOException {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Map<String, Object> a = new TreeMap<>(Files.readAttributes(
                        p, "unix:mode,uid,gid,size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS));
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    a.put("content", Files.readString(p));
                }
                out.put(dir.relativize(p).toString(), a);
            }
        }
        return out;
    }

    private static CopyExecutor.Request request(
            Path context,
            List<String> sources,
            String dest,
            Optional<Owner> owner,
            Optional<Integer> chmod,
            boolean extract) {
        return new CopyExecutor.Request(context, sources, dest, "/", owner, chmod, extract);
    }

    private static byte[] tar(String... names) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (String name : names) {
                byte[] data = ("from the archive: " + name).getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(name);
                e.setSize(data.length);
                e.setMode(0100644);
                tar.putArchiveEntry(e);
                tar.write(data);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
