package dev.stagefarm.common.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A directory outside every root, standing for the worker host's files: a few files holding a
 * marker, and what a write, chown, chmod, touch or hard link would change in each, to compare.
 */
public final class Canary {

    private final Path dir;
    private final String marker;
    private final Map<String, Map<String, Object>> before;

    private Canary(Path dir, String marker) throws IOException {
        this.dir = dir;
        this.marker = marker;
        this.before = snapshot();
    }

    /** Creates {@code dir} with files {@code f}, {@code a} and {@code sub/f}, each holding a unique marker. */
    public static Canary create(Path dir) throws IOException {
        String marker = "canary-" + System.nanoTime();
        Files.createDirectories(dir.resolve("sub"));
        for (String name : new String[] {"f", "a", "sub/f"}) {
            Files.writeString(dir.resolve(name), marker);
        }
        return new Canary(dir.toAbsolutePath(), marker);
    }

    public Path dir() {
        return dir;
    }

    /** Names, contents, owners, modes, link counts and times: all as they were. */
    public void assertUnchanged() throws IOException {
        assertThat(snapshot()).as("the canary directory %s", dir).isEqualTo(before);
    }

    /** No regular file below {@code tree} holds a byte read from the canary. */
    public void assertNotIn(Path tree) throws IOException {
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .toList()) {
                assertThat(Files.readString(p)).as("%s", p).doesNotContain(marker);
            }
        }
    }

    private Map<String, Map<String, Object>> snapshot() throws IOException {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Map<String, Object> a = new TreeMap<>(Files.readAttributes(
                        p, "unix:mode,uid,gid,size,nlink,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS));
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    a.put("content", Files.readString(p));
                }
                out.put(dir.relativize(p).toString(), a);
            }
        }
        return out;
    }
}
