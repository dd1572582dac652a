package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Resolves a path as a process chrooted into {@code rootfs} would see it: symlinks are followed, but
 * absolute targets and ".." are interpreted inside the rootfs, so an image's {@code /etc -> /host}
 * link can never make the worker read or create files outside it.
 */
public final class RootfsPath {

    private static final int MAX_LINKS = 255;

    private RootfsPath() {}

    /**
     * The host path for {@code containerPath} (absolute or relative to "/"); components that do
     * not exist are kept as written.
     */
    public static Path resolve(Path rootfs, String containerPath) throws IOException {
        Deque<String> pending = new ArrayDeque<>(split(containerPath));
        List<String> resolved = new ArrayList<>();
        int links = 0;
        while (!pending.isEmpty()) {
            String part = pending.removeFirst();
            if (part.equals("..")) {
                if (!resolved.isEmpty()) {
                    resolved.removeLast();
                }
                continue;
            }
            resolved.add(part);
            Path host = join(rootfs, resolved);
            if (!Files.isSymbolicLink(host)) {
                continue;
            }
            if (++links > MAX_LINKS) {
                throw new IOException("too many levels of symbolic links resolving " + containerPath + " in " + rootfs);
            }
            String target = Files.readSymbolicLink(host).toString();
            resolved.removeLast();
            if (target.startsWith("/")) {
                resolved.clear();
            }
            List<String> targetParts = split(target);
            for (int i = targetParts.size() - 1; i >= 0; i--) {
                pending.addFirst(targetParts.get(i));
            }
        }
        return join(rootfs, resolved);
    }

    private static List<String> split(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty() && !p.equals(".")) {
                parts.add(p);
            }
        }
        return parts;
    }

    private static Path join(Path rootfs, List<String> parts) {
        Path p = rootfs;
        for (String part : parts) {
            p = p.resolve(part);
        }
        return p;
    }
}
