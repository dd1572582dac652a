package dev.stagefarm.worker.cachemount;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.linux.LinuxFiles;
import dev.stagefarm.proto.cache.MountEntry;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Describes a cache mount's directory as manifest entries. A file whose type, size and mtime are
 * those of the entry it had when last synced or scanned keeps that entry's digest unread, so a
 * scan of a big, mostly unchanged cache hashes only what the step wrote.
 */
final class MountScanner {

    /** What a scan found: entries by path, the files to upload by digest, and what it left out. */
    record Scan(TreeMap<String, MountEntry> entries, Map<Digest, Path> files, int tooLarge, int special) {}

    private MountScanner() {}

    /**
     * @param known        the entries the directory had when last synced or scanned
     * @param maxFileBytes larger files are left out (stay local, never published)
     */
    static Scan scan(Path root, Map<String, MountEntry> known, long maxFileBytes) throws IOException {
        TreeMap<String, MountEntry> entries = new TreeMap<>();
        Map<Digest, Path> files = new HashMap<>();
        int[] skipped = new int[2];
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(root)) {
                    String path = relative(root, dir);
                    entries.put(
                            path,
                            describe(dir, MountEntry.Type.DIRECTORY)
                                    .setPath(path)
                                    .build());
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String path = relative(root, file);
                if (attrs.isSymbolicLink()) {
                    entries.put(
                            path,
                            describe(file, MountEntry.Type.SYMLINK)
                                    .setPath(path)
                                    .setLinkTarget(Files.readSymbolicLink(file).toString())
                                    .build());
                } else if (attrs.isRegularFile()) {
                    if (attrs.size() > maxFileBytes) {
                        skipped[0]++;
                        return FileVisitResult.CONTINUE;
                    }
                    MountEntry.Builder entry =
                            describe(file, MountEntry.Type.FILE).setPath(path);
                    MountEntry before = known.get(path);
                    boolean unchanged = before != null
                            && before.getType() == MountEntry.Type.FILE
                            && before.getSize() == entry.getSize()
                            && before.getMtimeNanos() == entry.getMtimeNanos();
                    Digest digest = unchanged ? Digest.parse(before.getDigest()) : Digest.of(file);
                    entries.put(path, entry.setDigest(digest.toString()).build());
                    files.putIfAbsent(digest, file);
                } else {
                    skipped[1]++; // fifos, sockets, devices: not content a cache can carry
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return new Scan(entries, files, skipped[0], skipped[1]);
    }

    /** Type, mode, owner, size and mtime of {@code path} itself (not what a symlink points to). */
    static MountEntry.Builder describe(Path path, MountEntry.Type type) throws IOException {
        Map<String, Object> a =
                Files.readAttributes(path, "unix:mode,uid,gid,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        MountEntry.Builder entry = MountEntry.newBuilder()
                .setType(type)
                .setMode((Integer) a.get("mode") & 07777)
                .setUid((Integer) a.get("uid"))
                .setGid((Integer) a.get("gid"))
                .setMtimeNanos(((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS));
        if (type == MountEntry.Type.FILE) {
            entry.setSize((Long) a.get("size"));
        }
        return entry;
    }

    /** Whether {@code path} is (still) what {@code entry} says, judged by type, size and mtime only. */
    static boolean matches(Path path, MountEntry entry) {
        try {
            Map<String, Object> a =
                    Files.readAttributes(path, "unix:mode,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
            int type = (Integer) a.get("mode") & LinuxFiles.S_IFMT;
            return switch (entry.getType()) {
                case FILE ->
                    type == LinuxFiles.S_IFREG
                            && (Long) a.get("size") == entry.getSize()
                            && ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS) == entry.getMtimeNanos();
                case DIRECTORY -> type == LinuxFiles.S_IFDIR;
                case SYMLINK ->
                    type == LinuxFiles.S_IFLNK
                            && Files.readSymbolicLink(path).toString().equals(entry.getLinkTarget());
                default -> false;
            };
        } catch (IOException e) {
            return false;
        }
    }

    private static String relative(Path root, Path path) {
        return root.relativize(path).toString();
    }
}
