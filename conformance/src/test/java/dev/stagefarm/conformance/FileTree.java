package dev.stagefarm.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A root filesystem read into memory: for every path (absolute, as inside the image) its type,
 * mode, owners, size, content digest, symlink target, mtime and the other paths it is hard-linked
 * with.
 */
final class FileTree {

    enum Type {
        FILE,
        DIR,
        SYMLINK,
        OTHER
    }

    record Node(
            String path,
            Type type,
            int mode,
            int uid,
            int gid,
            long size,
            String sha256,
            String linkTarget,
            long mtimeSeconds,
            List<String> hardlinks) {}

    private final Path root;
    private final SortedMap<String, Node> nodes;

    private FileTree(Path root, SortedMap<String, Node> nodes) {
        this.root = root;
        this.nodes = nodes;
    }

    static FileTree read(Path rootfs) throws IOException {
        SortedMap<String, Node> nodes = new TreeMap<>();
        Map<String, List<String>> inodes = new HashMap<>();
        List<Path> all;
        try (Stream<Path> walk = Files.walk(rootfs)) {
            all = walk.filter(p -> !p.equals(rootfs)).toList();
        }
        List<Object[]> raw = new ArrayList<>();
        for (Path p : all) {
            Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
            String path = "/" + rootfs.relativize(p).toString();
            raw.add(new Object[] {path, p, a});
            if (!(Boolean) a.get("isDirectory") && (Integer) a.get("nlink") > 1) {
                String inode = a.get("dev") + ":" + a.get("ino");
                inodes.computeIfAbsent(inode, k -> new ArrayList<>()).add(path);
            }
        }
        for (Object[] r : raw) {
            String path = (String) r[0];
            Path p = (Path) r[1];
            @SuppressWarnings("unchecked")
            Map<String, Object> a = (Map<String, Object>) r[2];
            Type type = (Boolean) a.get("isRegularFile")
                    ? Type.FILE
                    : (Boolean) a.get("isDirectory")
                            ? Type.DIR
                            : (Boolean) a.get("isSymbolicLink") ? Type.SYMLINK : Type.OTHER;
            List<String> links = List.of();
            if (type == Type.FILE && (Integer) a.get("nlink") > 1) {
                links = inodes.get(a.get("dev") + ":" + a.get("ino")).stream()
                        .filter(x -> !x.equals(path))
                        .sorted()
                        .toList();
            }
            nodes.put(
                    path,
                    new Node(
                            path,
                            type,
                            (Integer) a.get("mode") & 07777,
                            (Integer) a.get("uid"),
                            (Integer) a.get("gid"),
                            type == Type.FILE ? (Long) a.get("size") : 0,
                            type == Type.FILE ? sha256(p) : null,
                            type == Type.SYMLINK ? Files.readSymbolicLink(p).toString() : null,
                            ((FileTime) a.get("lastModifiedTime")).toInstant().getEpochSecond(),
                            links));
        }
        return new FileTree(rootfs, nodes);
    }

    Path root() {
        return root;
    }

    SortedMap<String, Node> nodes() {
        return nodes;
    }

    Node get(String path) {
        return nodes.get(path);
    }

    /** The names directly below {@code dir}, sorted. */
    List<String> children(String dir) {
        String prefix = dir.endsWith("/") ? dir : dir + "/";
        List<String> names = new ArrayList<>();
        for (String p : nodes.tailMap(prefix).keySet()) {
            if (!p.startsWith(prefix)) {
                break;
            }
            String rest = p.substring(prefix.length());
            if (!rest.contains("/")) {
                names.add(rest);
            }
        }
        return names;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
