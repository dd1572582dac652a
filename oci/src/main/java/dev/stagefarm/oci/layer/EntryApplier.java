package dev.stagefarm.oci.layer;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.LinuxFiles;
import dev.stagefarm.common.linux.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Writes one tar entry after another into a directory, in overlay or flat form (see {@link LayerUnpacker}).
 *
 * <p>The directory is held as a descriptor ({@link RootFs}); each entry's parent is opened exactly as
 * named below it (a symlink anywhere on the way is refused, never followed) and the entry is then
 * created, removed and given its owner, mode, xattrs and times by name in that descriptor. A layer is
 * a tree written out as it is, so its links are entries, never ways through, and a directory swapped
 * for a link meanwhile cannot send a write outside the directory.
 */
final class EntryApplier implements AutoCloseable {

    private static final String XATTR_PAX = "SCHILY.xattr.";
    private static final int WRITE_BUFFER = 256 << 10;

    private final RootFs root;
    private final LayerUnpacker.Mode mode;
    /** Paths this layer created: an opaque marker must not delete them (markers may follow their siblings). */
    private final Set<String> unpacked = new HashSet<>();
    /** One buffer for every file's content: most files are small, and a fresh array is zeroed each time. */
    private final byte[] buffer = new byte[WRITE_BUFFER];
    /** Directory mtimes are set last: creating their children changes them. */
    private final List<Map.Entry<String, Instant>> dirTimes = new ArrayList<>();
    /**
     * The directory the last entry went into, still open: a layer lists a directory's entries
     * together, so most entries need no lookup of their parent. Dropped whenever a directory is removed.
     */
    private String lastDirPath;

    private FileHandle lastDir;

    EntryApplier(Path root, LayerUnpacker.Mode mode) throws IOException {
        this.root = RootFs.open(root);
        this.mode = mode;
    }

    void apply(TarArchiveEntry e, InputStream content) throws IOException {
        String rel = LayerPaths.clean(e.getName());
        if (rel.isEmpty()) {
            return; // the root itself: its metadata belongs to whoever owns dest
        }
        String name = LayerPaths.name(rel);
        String parent = LayerPaths.parent(rel);
        FileHandle dir = dir(parent);
        if (name.equals(Whiteouts.OPAQUE)) {
            if (mode == LayerUnpacker.Mode.OVERLAY) {
                dir.setXattr(LinuxFiles.OVERLAY_OPAQUE_XATTR, new byte[] {'y'});
            } else {
                emptyExceptUnpacked(dir, parent);
            }
            return;
        }
        if (name.startsWith(Whiteouts.PREFIX)) {
            String hidden = name.substring(Whiteouts.PREFIX.length());
            remove(dir, hidden);
            if (mode == LayerUnpacker.Mode.OVERLAY) {
                dir.mknod(hidden, LinuxFiles.S_IFCHR, 0, 0, 0);
                // the marker's owner and time, so that the upper dir writes back the same layer
                dir.chown(hidden, (int) e.getLongUserId(), (int) e.getLongGroupId());
                Instant mtime = e.getLastModifiedTime().toInstant();
                dir.setTimes(hidden, mtime.getEpochSecond(), mtime.getNano());
            }
            return;
        }
        boolean existingDir = dir.childStat(name).map(FileStat::isDirectory).orElse(false);
        if (!(e.isDirectory() && existingDir)) {
            remove(dir, name);
        }
        if (e.isDirectory()) {
            if (!existingDir) {
                dir.mkdir(name, 0755);
            }
        } else if (e.isSymbolicLink()) {
            dir.symlink(name, e.getLinkName());
        } else if (e.isLink()) {
            try (FileHandle target = earlierFile(rel, e.getLinkName())) {
                dir.link(name, target);
            }
            unpacked.add(rel);
            return; // a hard link shares its target's metadata
        } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
            int type = e.isCharacterDevice()
                    ? LinuxFiles.S_IFCHR
                    : e.isBlockDevice() ? LinuxFiles.S_IFBLK : LinuxFiles.S_IFIFO;
            dir.mknod(name, type, 0, e.getDevMajor(), e.getDevMinor());
        } else if (e.isFile()) {
            write(content, dir, name);
        } else {
            throw new IOException("layer entry " + rel + " has tar type '" + (char) e.getLinkFlag()
                    + "', which a layer may not hold");
        }
        unpacked.add(rel);
        setMetadata(dir, name, rel, e);
    }

    void finish() throws IOException {
        for (int i = dirTimes.size() - 1; i >= 0; i--) {
            Instant t = dirTimes.get(i).getValue();
            try (FileHandle d = root.handleExact(dirTimes.get(i).getKey())) {
                if (d.stat().isDirectory()) {
                    d.setTimes(t.getEpochSecond(), t.getNano());
                }
            } catch (NoSuchFileException removedByALaterEntry) {
                // nothing to date
            }
        }
    }

    private void setMetadata(FileHandle dir, String name, String rel, TarArchiveEntry e) throws IOException {
        dir.chown(name, (int) e.getLongUserId(), (int) e.getLongGroupId());
        if (!e.isSymbolicLink()) {
            dir.chmod(name, e.getMode() & 07777); // after chown, which clears setuid
        }
        for (Map.Entry<String, String> x : e.getExtraPaxHeaders().entrySet()) {
            String key = x.getKey();
            if (key.startsWith(XATTR_PAX) && !key.startsWith(XATTR_PAX + "trusted.overlay.")) {
                dir.setXattr(
                        name, key.substring(XATTR_PAX.length()), x.getValue().getBytes(StandardCharsets.UTF_8));
            }
        }
        Instant mtime = e.getLastModifiedTime().toInstant();
        if (e.isDirectory()) {
            dirTimes.add(Map.entry(rel, mtime));
        } else {
            dir.setTimes(name, mtime.getEpochSecond(), mtime.getNano());
        }
    }

    /** The target of a hard link: an earlier file of the layer, named exactly (no link on the way, none followed). */
    private FileHandle earlierFile(String rel, String linkName) throws IOException {
        FileHandle target;
        try {
            target = root.handleExact(LayerPaths.clean(linkName));
        } catch (NoSuchFileException | Native.ErrnoException e) {
            throw notAnEarlierFile(rel, linkName);
        }
        if (target.stat().isDirectory()) {
            target.close();
            throw notAnEarlierFile(rel, linkName);
        }
        return target;
    }

    private static IOException notAnEarlierFile(String rel, String linkName) {
        return new IOException(
                "layer entry " + rel + " hard-links to " + linkName + ", which is not an earlier file of the layer");
    }

    /** The directory {@code rel}, still open from the last entry or opened (and created) now; not to be closed. */
    private FileHandle dir(String rel) throws IOException {
        if (!rel.equals(lastDirPath)) {
            FileHandle next = openOrMake(rel);
            forgetLastDir();
            lastDir = next;
            lastDirPath = rel;
        }
        return lastDir;
    }

    /**
     * Opens the directory {@code rel} exactly as named, creating it and its missing parents
     * (root-owned, 0755) as tar does for entries whose directory came earlier or never; a file in
     * the way is replaced, a symlink refused.
     */
    private FileHandle openOrMake(String rel) throws IOException {
        try {
            return root.directoryExact(rel);
        } catch (NoSuchFileException missing) {
            // made below
        } catch (Native.ErrnoException e) {
            if (e.errno() == Native.ELOOP) {
                throw throughLink(rel);
            }
            if (e.errno() != Native.ENOTDIR || rel.isEmpty()) {
                throw e;
            }
        }
        String name = LayerPaths.name(rel);
        try (FileHandle parent = openOrMake(LayerPaths.parent(rel))) {
            FileStat s = parent.childStat(name).orElse(null);
            if (s != null && s.isSymlink()) {
                throw throughLink(rel);
            }
            if (s == null || !s.isDirectory()) {
                remove(parent, name);
                parent.mkdir(name, 0755);
            }
            return parent.childDir(name);
        }
    }

    private IOException throughLink(String rel) {
        return new IOException(
                "layer writes into " + rel + " through a symlink: refusing, it could escape " + root.root());
    }

    private void emptyExceptUnpacked(FileHandle dir, String rel) throws IOException {
        for (String child : dir.list()) {
            if (!unpacked.contains(LayerPaths.join(rel, child))) {
                remove(dir, child);
            }
        }
    }

    /** A regular file's content, in large writes (the JDK's Files.copy writes 16 KiB at a time). */
    private void write(InputStream content, FileHandle dir, String name) throws IOException {
        try (OutputStream out = dir.newOutputStream(name, 0600)) {
            for (int n; (n = content.readNBytes(buffer, 0, buffer.length)) > 0; ) {
                out.write(buffer, 0, n);
            }
        }
    }

    /** Removes {@code name} in {@code dir}, a whole tree if it is one, links removed and never followed. */
    private void remove(FileHandle dir, String name) throws IOException {
        if (dir != lastDir && dir.childStat(name).map(FileStat::isDirectory).orElse(false)) {
            forgetLastDir(); // it may be the one removed, or below it (a child of it leaves it as it is)
        }
        dir.removeTree(name);
    }

    private void forgetLastDir() {
        if (lastDir != null) {
            lastDir.close();
            lastDir = null;
            lastDirPath = null;
        }
    }

    @Override
    public void close() {
        forgetLastDir();
        root.close();
    }
}
