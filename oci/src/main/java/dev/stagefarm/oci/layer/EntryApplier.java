package dev.stagefarm.oci.layer;

import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.common.linux.LinuxFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/** Writes one tar entry after another into a directory, in overlay or flat form (see {@link LayerUnpacker}). */
final class EntryApplier {

    private static final String XATTR_PAX = "SCHILY.xattr.";
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
    private static final int WRITE_BUFFER = 256 << 10;

    private final Path root;
    private final LayerUnpacker.Mode mode;
    /** Paths this layer created: an opaque marker must not delete them (markers may follow their siblings). */
    private final Set<String> unpacked = new HashSet<>();
    /**
     * Directories (relative paths) this applier has seen to be real directories, with every
     * parent: entries in them need no check for symlinks on the way. A layer of 20,000 files in
     * deep trees otherwise costs one lstat per path component per entry, more than writing the
     * files. A directory this applier deletes is forgotten here, with everything under it.
     */
    private final Set<String> knownDirs = new HashSet<>();
    /** One buffer for every file's content: most files are small, and a fresh array is zeroed each time. */
    private final byte[] buffer = new byte[WRITE_BUFFER];
    /** Directory mtimes are set last: creating their children changes them. */
    private final List<Map.Entry<Path, Instant>> dirTimes = new ArrayList<>();

    EntryApplier(Path root, LayerUnpacker.Mode mode) {
        this.root = root;
        this.mode = mode;
    }

    void apply(TarArchiveEntry e, InputStream content) throws IOException {
        String rel = LayerPaths.clean(e.getName());
        if (rel.isEmpty()) {
            return; // the root itself: its metadata belongs to whoever owns dest
        }
        String name = LayerPaths.name(rel);
        String parent = LayerPaths.parent(rel);
        if (name.equals(Whiteouts.OPAQUE)) {
            Path dir = ensureDir(parent);
            if (mode == LayerUnpacker.Mode.OVERLAY) {
                LinuxFiles.setOpaque(dir);
            } else {
                emptyExceptUnpacked(dir, parent);
            }
            return;
        }
        if (name.startsWith(Whiteouts.PREFIX)) {
            String hidden = LayerPaths.join(parent, name.substring(Whiteouts.PREFIX.length()));
            ensureDir(parent);
            Path target = inside(hidden);
            deleteRecursively(target);
            if (mode == LayerUnpacker.Mode.OVERLAY) {
                LinuxFiles.mknodWhiteout(target);
                // the marker's owner and time, so that the upper dir writes back the same layer
                LinuxFiles.lchown(target, (int) e.getLongUserId(), (int) e.getLongGroupId());
                Instant mtime = e.getLastModifiedTime().toInstant();
                LinuxFiles.utimensNoFollow(target, mtime.getEpochSecond(), mtime.getNano());
            }
            return;
        }
        ensureDir(parent);
        Path path = inside(rel);
        boolean existingDir = Files.isDirectory(path, NOFOLLOW);
        if (!(e.isDirectory() && existingDir)) {
            deleteRecursively(path);
        }
        if (e.isDirectory()) {
            if (!existingDir) {
                Files.createDirectory(path);
            }
            knownDirs.add(rel);
        } else if (e.isSymbolicLink()) {
            Files.createSymbolicLink(path, Path.of(e.getLinkName()));
        } else if (e.isLink()) {
            Path target = inside(LayerPaths.clean(e.getLinkName()));
            if (!Files.exists(target, NOFOLLOW) || Files.isDirectory(target, NOFOLLOW)) {
                throw new IOException("layer entry " + rel + " hard-links to " + e.getLinkName()
                        + ", which is not an earlier file of the layer");
            }
            Files.createLink(path, target);
            unpacked.add(rel);
            return; // a hard link shares its target's metadata
        } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
            int type = e.isCharacterDevice()
                    ? LinuxFiles.S_IFCHR
                    : e.isBlockDevice() ? LinuxFiles.S_IFBLK : LinuxFiles.S_IFIFO;
            LinuxFiles.mknod(path, type, 0, e.getDevMajor(), e.getDevMinor());
        } else if (e.isFile()) {
            write(content, path);
        } else {
            throw new IOException("layer entry " + rel + " has tar type '" + (char) e.getLinkFlag()
                    + "', which a layer may not hold");
        }
        unpacked.add(rel);
        setMetadata(path, e);
    }

    void finish() throws IOException {
        for (int i = dirTimes.size() - 1; i >= 0; i--) {
            Instant t = dirTimes.get(i).getValue();
            LinuxFiles.utimensNoFollow(dirTimes.get(i).getKey(), t.getEpochSecond(), t.getNano());
        }
    }

    private void setMetadata(Path path, TarArchiveEntry e) throws IOException {
        LinuxFiles.lchown(path, (int) e.getLongUserId(), (int) e.getLongGroupId());
        if (!e.isSymbolicLink()) {
            LinuxFiles.chmod(path, e.getMode() & 07777); // after chown, which clears setuid
        }
        for (Map.Entry<String, String> x : e.getExtraPaxHeaders().entrySet()) {
            String key = x.getKey();
            if (key.startsWith(XATTR_PAX) && !key.startsWith(XATTR_PAX + "trusted.overlay.")) {
                LinuxFiles.lsetXattr(
                        path, key.substring(XATTR_PAX.length()), x.getValue().getBytes(StandardCharsets.UTF_8));
            }
        }
        Instant mtime = e.getLastModifiedTime().toInstant();
        if (e.isDirectory()) {
            dirTimes.add(Map.entry(path, mtime));
        } else {
            LinuxFiles.utimensNoFollow(path, mtime.getEpochSecond(), mtime.getNano());
        }
    }

    /**
     * The path of {@code rel} under the root, refusing one whose parent directories include a symlink:
     * writing through it could land anywhere on the host.
     */
    private Path inside(String rel) throws IOException {
        if (knownDirs.contains(LayerPaths.parent(rel))) {
            return root.resolve(rel);
        }
        Path p = root;
        String[] parts = rel.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            p = p.resolve(parts[i]);
            if (Files.isSymbolicLink(p)) {
                throw new IOException("layer entry " + rel + " would be written through the symlink "
                        + root.relativize(p) + ": refusing, it could escape " + root);
            }
        }
        return root.resolve(rel);
    }

    /** Creates missing parents (root-owned, 0755) as tar does for entries whose directory came earlier or never. */
    private Path ensureDir(String rel) throws IOException {
        if (rel.isEmpty()) {
            return root;
        }
        if (knownDirs.contains(rel)) {
            return root.resolve(rel);
        }
        Path dir = inside(rel);
        if (Files.isSymbolicLink(dir)) {
            throw new IOException("layer writes into " + rel + ", a symlink: refusing, it could escape " + root);
        }
        if (!Files.isDirectory(dir, NOFOLLOW)) {
            ensureDir(LayerPaths.parent(rel));
            deleteRecursively(dir);
            Files.createDirectory(dir);
        }
        knownDirs.add(rel);
        return dir;
    }

    private void emptyExceptUnpacked(Path dir, String rel) throws IOException {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            for (Path c : children) {
                if (!unpacked.contains(LayerPaths.join(rel, c.getFileName().toString()))) {
                    deleteRecursively(c);
                }
            }
        }
    }

    /** A regular file's content, in large writes (the JDK's Files.copy writes 16 KiB at a time). */
    private void write(InputStream content, Path path) throws IOException {
        try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int n; (n = content.readNBytes(buffer, 0, buffer.length)) > 0; ) {
                out.write(buffer, 0, n);
            }
        }
    }

    private void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, NOFOLLOW)) {
            return;
        }
        if (!Files.isDirectory(p, NOFOLLOW)) {
            Files.delete(p);
            return;
        }
        String rel = root.relativize(p).toString();
        knownDirs.removeIf(d -> d.equals(rel) || d.startsWith(rel + "/"));
        FileTrees.deleteRecursively(p);
    }
}
