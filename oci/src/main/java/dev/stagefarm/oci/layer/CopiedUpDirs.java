package dev.stagefarm.oci.layer;

import dev.stagefarm.common.linux.LinuxFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * Directories an overlay upper dir holds only because something below them was touched and
 * undone, e.g. {@code /etc} after runc mounted {@code /etc/hosts}: overlayfs copies a directory
 * up as soon as anything happens inside it. Such a directory says nothing new, so it stays out
 * of the layer, as BuildKit's differ leaves it out: not opaque, the same type, permission bits,
 * owner and xattrs as below (mtimes are not compared: a copy-up touches them), and nothing under
 * it that belongs in the layer.
 */
final class CopiedUpDirs {

    private CopiedUpDirs() {}

    /**
     * @param paths every path of the upper dir, in {@link LayerPaths#ORDER}
     * @param lower the filesystem the step ran on, as one merged tree
     * @return the paths to leave out
     */
    static Set<String> unchanged(Path upper, SortedSet<String> paths, Path lower) throws IOException {
        Set<String> drop = new HashSet<>();
        Set<String> changedBelow = new HashSet<>();
        List<String> childrenFirst = List.copyOf(paths).reversed();
        for (String rel : childrenFirst) {
            Path dir = upper.resolve(rel);
            boolean same = !changedBelow.contains(rel)
                    && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                    && !LinuxFiles.isOpaque(dir)
                    && sameAsLower(dir, lower, rel);
            if (same) {
                drop.add(rel);
            } else {
                changedBelow.add(LayerPaths.parent(rel));
            }
        }
        return drop;
    }

    private static boolean sameAsLower(Path dir, Path lower, String rel) throws IOException {
        Path below = lower.resolve(rel);
        if (!Files.isDirectory(below, LinkOption.NOFOLLOW_LINKS)
                || !below.toRealPath().equals(lower.toRealPath().resolve(rel))) {
            return false; // absent below, not a directory, or reached through a symlink there
        }
        Map<String, Object> a = Files.readAttributes(dir, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        Map<String, Object> b = Files.readAttributes(below, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        return a.equals(b) && xattrs(dir).equals(xattrs(below));
    }

    /** xattrs as comparable text; overlayfs's own bookkeeping is not the directory's. */
    private static Map<String, String> xattrs(Path p) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String name : LinuxFiles.llistXattr(p)) {
            if (!name.startsWith("trusted.overlay.") && !name.startsWith("user.overlay.")) {
                out.put(
                        name,
                        LinuxFiles.lgetXattr(p, name).map(Arrays::toString).orElse(""));
            }
        }
        return out;
    }
}
