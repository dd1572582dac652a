package dev.stagefarm.oci.layer;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.fs.RootedPaths;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.LinuxFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Applies an image's layers, in order, onto a directory the user named ({@code --output
 * type=local,dest=DIR}): the image's final filesystem, whiteouts and opaque directories applied.
 *
 * <p>The image is the build author's, so every path it names is resolved by {@link RootFs}, inside
 * DIR, as a process chrooted into DIR would resolve it: an entry {@code x/etc/passwd} after a
 * symlink {@code x -> /} lands in {@code DIR/etc/passwd}, never in the host's {@code /etc}. The
 * entry itself is then created by name in the directory's descriptor, never through a symlink.
 * Owners are kept when this process may set them (root), as buildx's local exporter does.
 */
public final class ConfinedLayerApplier implements AutoCloseable {

    private final RootFs root;
    private final boolean setOwners;
    private final byte[] buffer = new byte[256 << 10];
    /** Paths (resolved, relative) the current layer wrote: its own opaque markers keep them. */
    private final Set<String> unpacked = new HashSet<>();
    /** Directory modes and times, applied last: a read-only directory must still take its children. */
    private final List<DirMeta> dirs = new ArrayList<>();

    private record DirMeta(String path, int mode, Instant mtime) {}

    private ConfinedLayerApplier(RootFs root, boolean setOwners) {
        this.root = root;
        this.setOwners = setOwners;
    }

    /** Opens {@code dir}, created if missing; the user's path is trusted, the image's paths are not. */
    public static ConfinedLayerApplier open(Path dir) throws IOException {
        Files.createDirectories(dir);
        // /proc/self belongs to this process's effective user
        boolean root = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        return new ConfinedLayerApplier(RootFs.open(dir), root);
    }

    /** One layer: gzip, zstd or plain tar. */
    public void apply(InputStream layer) throws IOException {
        unpacked.clear();
        TarArchiveInputStream tar = new TarArchiveInputStream(LayerUnpacker.decompressed(layer), "UTF-8");
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
            apply(e, tar);
        }
    }

    /** Sets directory modes and times once every layer is in. */
    public void finish() throws IOException {
        for (DirMeta d : dirs.reversed()) {
            if (root.lstat(d.path()).map(FileStat::isDirectory).orElse(false)) {
                root.chmod(d.path(), d.mode());
                root.setTimes(d.path(), d.mtime().getEpochSecond(), d.mtime().getNano());
            }
        }
        dirs.clear();
    }

    private void apply(TarArchiveEntry e, InputStream content) throws IOException {
        String rel = RootedPaths.clean(e.getName());
        if (rel.isEmpty()) {
            return; // DIR itself belongs to the user
        }
        int slash = rel.lastIndexOf('/');
        String parent = slash < 0 ? "" : rel.substring(0, slash);
        String name = rel.substring(slash + 1);
        try (FileHandle dir = root.mkdirs(parent, 0755)) {
            String at = root.resolve(parent, true);
            if (name.equals(Whiteouts.OPAQUE)) {
                for (String child : dir.list()) {
                    if (!unpacked.contains(join(at, child))) {
                        remove(dir, child);
                    }
                }
                return;
            }
            if (name.startsWith(Whiteouts.PREFIX)) {
                remove(dir, name.substring(Whiteouts.PREFIX.length()));
                return;
            }
            Optional<FileStat> existing = dir.childStat(name);
            boolean keepDir =
                    e.isDirectory() && existing.map(FileStat::isDirectory).orElse(false);
            if (existing.isPresent() && !keepDir) {
                remove(dir, name);
            }
            unpacked.add(join(at, name));
            if (e.isDirectory()) {
                if (!keepDir) {
                    dir.mkdir(name, 0700);
                }
                dirs.add(new DirMeta(
                        join(at, name),
                        e.getMode() & 07777,
                        e.getLastModifiedTime().toInstant()));
            } else if (e.isSymbolicLink()) {
                dir.symlink(name, e.getLinkName());
            } else if (e.isLink()) {
                hardLink(rel, e.getLinkName(), dir, name);
                return; // shares its target's metadata
            } else if (e.isFIFO() || e.isCharacterDevice() || e.isBlockDevice()) {
                if (!e.isFIFO() && !setOwners) {
                    return; // only root makes device nodes; buildx's rootless export skips them too
                }
                int type = e.isFIFO()
                        ? LinuxFiles.S_IFIFO
                        : e.isCharacterDevice() ? LinuxFiles.S_IFCHR : LinuxFiles.S_IFBLK;
                dir.mknod(name, type, 0600, e.getDevMajor(), e.getDevMinor());
            } else if (e.isFile()) {
                write(content, dir, name);
            } else {
                throw new IOException("layer entry " + rel + " has tar type '" + (char) e.getLinkFlag()
                        + "', which a layer may not hold");
            }
            setMetadata(dir, name, e);
        }
    }

    private void setMetadata(FileHandle dir, String name, TarArchiveEntry e) throws IOException {
        Instant mtime = e.getLastModifiedTime().toInstant();
        try (FileHandle h = dir.child(name)) {
            if (setOwners) {
                h.chown((int) e.getLongUserId(), (int) e.getLongGroupId());
            }
            if (e.isSymbolicLink()) {
                dir.setTimes(name, mtime.getEpochSecond(), mtime.getNano());
            } else if (!e.isDirectory()) {
                h.chmod(e.getMode() & 07777); // after chown, which clears setuid
                h.setTimes(mtime.getEpochSecond(), mtime.getNano());
            }
        }
    }

    /** A hard link to an earlier regular file of the image, found inside the root, never followed. */
    private void hardLink(String rel, String linkName, FileHandle dir, String name) throws IOException {
        // the file the kernel finds inside the root, linked by its descriptor: no path walked again
        try (FileHandle source = root.handle(RootedPaths.clean(linkName), false)) {
            if (!source.stat().isRegular()) {
                throw new IOException("layer entry " + rel + " hard-links to " + linkName
                        + ", which is not an earlier file of the image");
            }
            dir.link(name, source);
        } catch (NoSuchFileException e) {
            throw new IOException(
                    "layer entry " + rel + " hard-links to " + linkName + ", which is not an earlier file of the image",
                    e);
        }
    }

    private void write(InputStream content, FileHandle dir, String name) throws IOException {
        // O_NOFOLLOW: never opens through a symlink put there meanwhile
        try (OutputStream out = dir.newOutputStream(name, 0600)) {
            for (int n; (n = content.readNBytes(buffer, 0, buffer.length)) > 0; ) {
                out.write(buffer, 0, n);
            }
        }
    }

    /** Removes {@code name} in {@code dir} and, for a directory, everything below it (links never followed). */
    private static void remove(FileHandle dir, String name) throws IOException {
        dir.removeTree(name);
    }

    private static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    @Override
    public void close() {
        root.close();
    }
}
