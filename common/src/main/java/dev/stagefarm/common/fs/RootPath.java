package dev.stagefarm.common.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;

/**
 * Resolves a path inside a container root filesystem the way the container would see it:
 * symlinks are followed relative to that root (an absolute link target is re-rooted), so no
 * path a Dockerfile names can reach the host's files.
 */
public final class RootPath {

    private static final int MAX_LINKS = 255;

    private RootPath() {}

    /** Follows every symlink, the last component included. */
    public static Path resolve(Path root, String path) throws IOException {
        return walk(root, path, true);
    }

    /** Follows symlinks in parent directories only; the last component is taken as it is. */
    public static Path resolveNoFollow(Path root, String path) throws IOException {
        return walk(root, path, false);
    }

    private static Path walk(Path root, String path, boolean followLast) throws IOException {
        ArrayDeque<String> todo = new ArrayDeque<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                todo.add(part);
            }
        }
        Path current = root;
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.poll();
            if (part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!current.equals(root)) {
                    current = current.getParent();
                }
                continue;
            }
            Path next = current.resolve(part);
            boolean last = todo.isEmpty();
            if ((!last || followLast) && Files.isSymbolicLink(next)) {
                if (++links > MAX_LINKS) {
                    throw new IOException("too many levels of symbolic links in " + path);
                }
                String target = Files.readSymbolicLink(next).toString();
                ArrayDeque<String> rest = new ArrayDeque<>();
                for (String t : target.split("/")) {
                    if (!t.isEmpty()) {
                        rest.add(t);
                    }
                }
                rest.addAll(todo);
                todo = rest;
                if (target.startsWith("/")) {
                    current = root;
                }
                continue;
            }
            current = next;
        }
        if (!current.startsWith(root) || !Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(path + " resolves outside the root " + root);
        }
        return current;
    }
}
