package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.testing.Canary;
import dev.stagefarm.common.testing.LinkSwapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two steps sharing a cache mount, one of them hostile: while COPY and ADD run again and again into
 * a directory of the stage and out of a directory of the source, a thread swaps each of them for a
 * link to a canary directory outside both roots, and back. The attacker may win or lose any round
 * (a copy may fail, or land inside the root where the link leads when re-rooted); whatever the
 * interleaving, nothing in the canary is ever written, read, chowned, chmod'ed or re-dated. (With the
 * earlier path-string resolver, the canary's files were overwritten and chowned in every run.)
 */
@Tag("root")
class CopyRaceTest {

    private static final int MIN_ROUNDS = 1_000;
    private static final int MIN_SWAPS = 100;

    @TempDir
    Path tmp;

    @Test
    void swappingDirectoriesForLinksNeverReachesTheCanary() throws Exception {
        Canary canary = Canary.create(tmp.resolve("canary"));
        Path stage = Files.createDirectories(tmp.resolve("stage"));
        Path context = Files.createDirectories(tmp.resolve("context"));
        for (Path root : List.of(stage, context)) {
            // where the link's target lands when re-rooted: copies through the link succeed, inside
            Path reRooted =
                    Files.createDirectories(root.resolve(canary.dir().toString().substring(1)));
            Files.writeString(reRooted.resolve("f"), "re-rooted, inside");
        }
        Files.createDirectories(stage.resolve("d"));
        Files.createDirectories(context.resolve("s/deeper"));
        Files.writeString(context.resolve("s/f"), "source file");
        Files.writeString(context.resolve("s/deeper/g"), "source file");
        Files.createDirectories(context.resolve("src"));
        Files.writeString(context.resolve("src/a"), "a");
        Files.writeString(context.resolve("src/b"), "b");
        Files.write(context.resolve("pkg.tar"), CopyHostilePathsTest.tar("pkg/x", "f", "sub/y"));

        CopyExecutor copier = new CopyExecutor();
        Optional<Owner> owner = Optional.of(new Owner(1234, 1234));
        List<CopyExecutor.Request> requests = List.of(
                request(context, List.of("src/a", "src/b"), "/d/", owner, Optional.of(0777), false),
                request(context, List.of("src"), "/d/tree", Optional.empty(), Optional.empty(), false),
                request(context, List.of("src/a"), "/d/a", owner, Optional.of(04755), false),
                request(context, List.of("s/f"), "/out/f", Optional.empty(), Optional.empty(), false),
                request(context, List.of("s"), "/out/tree", Optional.empty(), Optional.empty(), false),
                request(context, List.of("s/*"), "/out/glob/", Optional.empty(), Optional.empty(), false),
                request(context, List.of("pkg.tar"), "/d/", Optional.empty(), Optional.empty(), true));

        long rounds = 0;
        long succeeded = 0;
        long swaps;
        // as many rounds as it takes for the swapper to have swapped many times: on a loaded machine
        // it may get its first time slice only after many copies
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (LinkSwapper swapper = new LinkSwapper(List.of(stage.resolve("d"), context.resolve("s")), canary.dir())) {
            while ((rounds < MIN_ROUNDS || swapper.swaps() < MIN_SWAPS) && System.nanoTime() < deadline) {
                try {
                    copier.copy(requests.get((int) (rounds % requests.size())), stage);
                    succeeded++;
                } catch (IOException | CopyException e) {
                    // the swap was half way: a failed copy is an acceptable answer, escaping is not
                }
                rounds++;
            }
            swaps = swapper.swaps();
        }

        canary.assertUnchanged();
        canary.assertNotIn(stage);
        assertThat(swaps).as("the swapper ran throughout").isGreaterThanOrEqualTo(MIN_SWAPS);
        assertThat(succeeded).as("copies ran, not only failed").isPositive();
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
}
