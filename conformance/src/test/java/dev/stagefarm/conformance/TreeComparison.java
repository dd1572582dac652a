package dev.stagefarm.conformance;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compares stagefarm's root filesystem with BuildKit's, file by file: path set, type, mode,
 * owners, size, content digest, symlink target and hard-link partners, and the mtime of regular
 * files BuildKit did not write during the build. What it ignores, and why, is in
 * conformance/README.md ("What the differential comparison ignores").
 */
final class TreeComparison {

    /** What {@code docker create} adds in the container's init layer, which {@code docker export} includes. */
    private static final Set<String> DOCKER_INIT_FILES =
            Set.of("/.dockerenv", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab");

    private static final List<String> DOCKER_INIT_TREES = List.of("/dev", "/proc", "/sys");
    private static final int MAX_REPORTED = 40;

    private TreeComparison() {}

    static List<String> compare(FileTree stagefarm, FileTree buildkit, Instant buildkitStarted) {
        List<String> diffs = new ArrayList<>();
        Set<String> paths = new TreeSet<>(stagefarm.nodes().keySet());
        paths.addAll(buildkit.nodes().keySet());
        long writtenByBuild = buildkitStarted.getEpochSecond() - 1;
        for (String path : paths) {
            if (ignored(path, buildkit)) {
                continue;
            }
            FileTree.Node ours = stagefarm.get(path);
            FileTree.Node theirs = buildkit.get(path);
            if (ours == null) {
                diffs.add(path + ": only in BuildKit's image (" + describe(theirs) + ")");
                continue;
            }
            if (theirs == null) {
                diffs.add(path + ": only in stagefarm's image (" + describe(ours) + ")");
                continue;
            }
            if (ours.type() != theirs.type()) {
                diffs.add(path + ": stagefarm " + describe(ours) + ", BuildKit " + describe(theirs));
                continue;
            }
            field(
                    diffs,
                    path,
                    "mode",
                    String.format("%04o", ours.mode()),
                    String.format("%04o", theirs.mode()),
                    ours.type() != FileTree.Type.SYMLINK);
            field(diffs, path, "uid", ours.uid(), theirs.uid(), true);
            field(diffs, path, "gid", ours.gid(), theirs.gid(), true);
            field(diffs, path, "size", ours.size(), theirs.size(), true);
            field(diffs, path, "content sha256", ours.sha256(), theirs.sha256(), ours.size() == theirs.size());
            field(diffs, path, "symlink target", ours.linkTarget(), theirs.linkTarget(), true);
            field(diffs, path, "hard links", ours.hardlinks(), visible(theirs.hardlinks(), buildkit), true);
            field(
                    diffs,
                    path,
                    "mtime",
                    Instant.ofEpochSecond(ours.mtimeSeconds()),
                    Instant.ofEpochSecond(theirs.mtimeSeconds()),
                    ours.type() == FileTree.Type.FILE && theirs.mtimeSeconds() < writtenByBuild);
        }
        if (diffs.size() > MAX_REPORTED) {
            int more = diffs.size() - MAX_REPORTED;
            diffs = new ArrayList<>(diffs.subList(0, MAX_REPORTED));
            diffs.add("… and " + more + " more differences");
        }
        return diffs;
    }

    /**
     * Docker's init layer: its files, the kernel trees it mounts over, and a directory it had to
     * create for them (e.g. /etc in an image FROM scratch) holding nothing else.
     */
    private static boolean ignored(String path, FileTree buildkit) {
        if (DOCKER_INIT_FILES.contains(path)) {
            return true;
        }
        for (String tree : DOCKER_INIT_TREES) {
            if (path.equals(tree) || path.startsWith(tree + "/")) {
                return true;
            }
        }
        FileTree.Node node = buildkit.get(path);
        if (node != null && node.type() == FileTree.Type.DIR && path.equals("/etc")) {
            return buildkit.children("/etc").stream().allMatch(n -> DOCKER_INIT_FILES.contains("/etc/" + n));
        }
        return false;
    }

    private static List<String> visible(List<String> links, FileTree buildkit) {
        return links.stream().filter(p -> !ignored(p, buildkit)).toList();
    }

    private static void field(
            List<String> diffs, String path, String what, Object ours, Object theirs, boolean compare) {
        if (compare && !Objects.equals(ours, theirs)) {
            diffs.add(path + ": " + what + " stagefarm " + ours + ", BuildKit " + theirs);
        }
    }

    private static String describe(FileTree.Node n) {
        return switch (n.type()) {
            case FILE -> String.format("file %04o %d:%d %d bytes", n.mode(), n.uid(), n.gid(), n.size());
            case DIR -> String.format("dir %04o %d:%d", n.mode(), n.uid(), n.gid());
            case SYMLINK -> "symlink -> " + n.linkTarget();
            case OTHER -> String.format("special file %04o", n.mode());
        };
    }
}
