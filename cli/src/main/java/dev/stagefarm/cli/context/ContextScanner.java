package dev.stagefarm.cli.context;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Turns a build context directory into a {@link ContextManifest}: every path .dockerignore keeps,
 * with modes and content digests, sorted, so the same tree always gives the same manifest.
 */
public final class ContextScanner {

    /** The manifest, and where each file's content lives on this machine. */
    public record ScannedContext(ContextManifest manifest, Map<Digest, Path> files) {

        public long totalBytes() {
            return manifest.getEntriesList().stream()
                    .filter(e -> e.getType() == ContextEntry.Type.FILE)
                    .mapToLong(ContextEntry::getSize)
                    .sum();
        }
    }

    private final DockerIgnore ignore;

    public ContextScanner(DockerIgnore ignore) {
        this.ignore = ignore;
    }

    public ScannedContext scan(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IOException("build context " + root + " is not a directory");
        }
        List<ContextEntry> entries = new ArrayList<>();
        Map<Digest, Path> files = new HashMap<>();
        walk(root, root, entries, files, new HashMap<>());
        return new ScannedContext(
                ContextManifest.newBuilder().addAllEntries(entries).build(), files);
    }

    /** @param inodes the first path seen of each file with several names, by inode */
    private void walk(
            Path root, Path dir, List<ContextEntry> out, Map<Digest, Path> files, Map<Object, ContextEntry> inodes)
            throws IOException {
        List<Path> children;
        try (Stream<Path> list = Files.list(dir)) {
            children = list.sorted((a, b) ->
                            a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .toList();
        }
        for (Path child : children) {
            String rel = root.relativize(child).toString().replace('\\', '/');
            PosixFileAttributes attrs =
                    Files.readAttributes(child, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            boolean excluded = ignore.excludes(rel);
            if (attrs.isDirectory()) {
                int before = out.size();
                if (!excluded) {
                    out.add(entry(rel, ContextEntry.Type.DIRECTORY, child).build());
                }
                if (!excluded || ignore.mayIncludeBelow(rel)) {
                    walk(root, child, out, files, inodes);
                }
                if (excluded && out.size() > before) {
                    // an exception rule kept something below: keep the directory itself too
                    out.add(
                            before,
                            entry(rel, ContextEntry.Type.DIRECTORY, child).build());
                }
            } else if (excluded) {
                continue;
            } else if (attrs.isSymbolicLink()) {
                out.add(entry(rel, ContextEntry.Type.SYMLINK, child)
                        .setLinkTarget(Files.readSymbolicLink(child).toString())
                        .build());
            } else if (attrs.isRegularFile()) {
                ContextEntry first = several(child) ? inodes.get(attrs.fileKey()) : null;
                if (first != null) {
                    // hard links stay hard links in the image, as BuildKit keeps them
                    out.add(entry(rel, ContextEntry.Type.HARDLINK, child)
                            .setLinkTarget(first.getPath())
                            .setSize(first.getSize())
                            .setDigest(first.getDigest())
                            .build());
                    continue;
                }
                Digest digest = Digest.of(child);
                files.putIfAbsent(digest, child);
                ContextEntry file = entry(rel, ContextEntry.Type.FILE, child)
                        .setSize(attrs.size())
                        .setDigest(digest.toString())
                        .build();
                out.add(file);
                if (several(child)) {
                    inodes.put(attrs.fileKey(), file);
                }
            }
            // sockets, fifos and devices are not part of a build context, as in BuildKit
        }
    }

    private static boolean several(Path file) throws IOException {
        return (Integer) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1;
    }

    private static ContextEntry.Builder entry(String rel, ContextEntry.Type type, Path path) throws IOException {
        // unix:mode keeps setuid, setgid and sticky, which PosixFilePermission drops
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        return ContextEntry.newBuilder().setPath(rel).setType(type).setMode(mode);
    }
}
