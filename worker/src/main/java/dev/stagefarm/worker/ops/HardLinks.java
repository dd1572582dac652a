package dev.stagefarm.worker.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The files one COPY has written so far, by source inode: two source names of one inode become
 * two names of one inode at the destination, as BuildKit keeps hard links within a copy.
 */
final class HardLinks {

    private final Map<Object, Path> copied = new HashMap<>();

    /**
     * Where the source's inode was already copied to in this step; otherwise empty, and
     * {@code to} is remembered as the copy of it. Only regular files with several names count.
     */
    Optional<Path> firstCopyOf(Path from, Path to) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(from, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attrs.isRegularFile()
                || attrs.fileKey() == null
                || (Integer) Files.getAttribute(from, "unix:nlink", LinkOption.NOFOLLOW_LINKS) < 2) {
            return Optional.empty();
        }
        Path first = copied.putIfAbsent(attrs.fileKey(), to);
        return first == null || first.equals(to) ? Optional.empty() : Optional.of(first);
    }
}
