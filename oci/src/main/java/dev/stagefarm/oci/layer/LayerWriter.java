package dev.stagefarm.oci.layer;

import static dev.stagefarm.common.linux.LinuxFiles.S_IFBLK;
import static dev.stagefarm.common.linux.LinuxFiles.S_IFCHR;
import static dev.stagefarm.common.linux.LinuxFiles.S_IFDIR;
import static dev.stagefarm.common.linux.LinuxFiles.S_IFIFO;
import static dev.stagefarm.common.linux.LinuxFiles.S_IFLNK;
import static dev.stagefarm.common.linux.LinuxFiles.S_IFREG;

import com.github.luben.zstd.ZstdOutputStream;
import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.LinuxFiles;
import dev.stagefarm.common.linux.Native;
import dev.stagefarm.oci.MediaTypes;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a directory into a reproducible, gzip-compressed OCI layer, computing the blob digest and the
 * diffID in one pass. Three sources:
 * <ul>
 *   <li>{@link #writeUpperDir}: an overlayfs upper dir; whiteouts (char device 0:0) become {@code .wh.<name>}
 *       and opaque directories get a {@code .wh..wh..opq} entry. The overlay must have been mounted without
 *       {@code redirect_dir} and {@code metacopy}, whose upper dirs are not self-contained.</li>
 *   <li>{@link #writeDirectory}: a plain tree, taken as it is.</li>
 *   <li>{@link #writeSelected}: only the given paths (whole subtrees for directories) and their parent
 *       directories: the artifact a later stage's {@code COPY --from} takes.</li>
 * </ul>
 * Entries are in depth-first lexical order, owners numeric (no user/group names), modes with
 * setuid/setgid/sticky, mtimes in whole seconds (as Docker writes them) and optionally clamped to
 * SOURCE_DATE_EPOCH; atime/ctime are never written. The same tree gives the same bytes (with the same JDK).
 */
public final class LayerWriter {

    private static final Logger log = LoggerFactory.getLogger(LayerWriter.class);

    /**
     * @param compression the codec of the blob
     * @param gzipLevel {@link Deflater} level for gzip; default {@link Deflater#BEST_SPEED}: gzip is made
     *     for registries only and -6 costs ~3x the CPU for ~10% smaller layers, while workers are CPU bound
     * @param zstdLevel zstd level; 1 compresses at several hundred MB/s, which keeps layer creation off the
     *     critical path of a build
     * @param sourceDateEpoch when set, later mtimes are clamped to it (reproducible builds)
     */
    public record Options(Compression compression, int gzipLevel, int zstdLevel, Instant sourceDateEpoch) {
        public Options {
            if (gzipLevel < Deflater.NO_COMPRESSION || gzipLevel > Deflater.BEST_COMPRESSION) {
                throw new IllegalArgumentException("gzip level " + gzipLevel + " not in 0..9");
            }
        }

        public Options(int gzipLevel, Instant sourceDateEpoch) {
            this(Compression.GZIP, gzipLevel, 1, sourceDateEpoch);
        }

        public static Options defaults() {
            return new Options(Deflater.BEST_SPEED, null);
        }

        /** zstd level 1: the codec layers travel in inside the farm. */
        public static Options zstd() {
            return new Options(Compression.ZSTD, Deflater.BEST_SPEED, 1, null);
        }

        public Options withSourceDateEpoch(Instant epoch) {
            return new Options(compression, gzipLevel, zstdLevel, epoch);
        }

        public Options withGzipLevel(int level) {
            return new Options(compression, level, zstdLevel, sourceDateEpoch);
        }
    }

    /** The codec of a layer blob. */
    public enum Compression {
        GZIP,
        ZSTD;

        /** The OCI media type of a layer tar in this codec. */
        public String ociMediaType() {
            return this == GZIP ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER_ZSTD;
        }
    }

    private final Options options;

    public LayerWriter(Options options) {
        this.options = options;
    }

    public LayerBlob writeUpperDir(Path upper, Path out) throws IOException {
        return write(upper, walk(upper), true, out, null);
    }

    /**
     * An overlay upper dir as a layer, without the directories that are there only because
     * overlayfs copied them up ({@link CopiedUpDirs}).
     *
     * @param lower the merged filesystem below the upper dir
     */
    public LayerBlob writeUpperDir(Path upper, Path lower, Path out) throws IOException {
        SortedSet<String> paths = walk(upper);
        paths.removeAll(CopiedUpDirs.unchanged(upper, paths, lower));
        return write(upper, paths, true, out, null);
    }

    public LayerBlob writeDirectory(Path dir, Path out) throws IOException {
        return write(dir, walk(dir), false, out, null);
    }

    /**
     * @param paths paths under {@code root} ("/app/bin" or "app/bin"); each must exist, and be named
     *     without a symlink before its last component: a link is an entry here, never a way through
     *     (a stage's {@code /x/h -> /} must not turn {@code /x/h/etc/passwd} into the worker's own)
     * @return the blob, and the mtime-free digest of the selected entries and their subtrees (not of
     *     the parent directories added only to hold them)
     */
    public ArtifactBlob writeSelected(Path root, Collection<String> paths, Path out) throws IOException {
        SortedSet<String> all = new TreeSet<>(LayerPaths.ORDER);
        java.util.Set<String> copied = new java.util.HashSet<>();
        try (RootFs fs = RootFs.open(root)) {
            for (String p : paths) {
                String rel = LayerPaths.clean(p);
                FileStat stat = exactStat(fs, p, rel);
                for (String parent = LayerPaths.parent(rel); !parent.isEmpty(); parent = LayerPaths.parent(parent)) {
                    all.add(parent);
                }
                if (rel.isEmpty() || stat.isDirectory()) {
                    // the walk does not follow links; every entry is opened again, exactly, when written
                    SortedSet<String> tree = walk(root, root.resolve(rel));
                    all.addAll(tree);
                    copied.addAll(tree);
                }
                if (!rel.isEmpty()) {
                    all.add(rel);
                    copied.add(rel);
                }
            }
        }
        TreeDigest content = new TreeDigest(copied);
        LayerBlob blob = write(root, all, false, out, content);
        return new ArtifactBlob(blob, content.digest());
    }

    private static FileStat exactStat(RootFs fs, String asked, String rel) throws IOException {
        try (FileHandle h = fs.handleExact(rel)) {
            return h.stat();
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(asked, null, "selected path is not in the stage's filesystem");
        } catch (Native.ErrnoException e) {
            if (e.errno() == Native.ELOOP || e.errno() == Native.ENOTDIR || e.errno() == Native.EXDEV) {
                throw new NoSuchFileException(asked, null, "selected path goes through a symbolic link or a file");
            }
            throw e;
        }
    }

    private static SortedSet<String> walk(Path root) throws IOException {
        return walk(root, root);
    }

    private static SortedSet<String> walk(Path root, Path start) throws IOException {
        SortedSet<String> out = new TreeSet<>(LayerPaths.ORDER);
        try (Stream<Path> s = Files.walk(start)) {
            s.filter(p -> !p.equals(root)).forEach(p -> out.add(LayerPaths.relative(root, p)));
        }
        return out;
    }

    private LayerBlob write(Path root, SortedSet<String> paths, boolean upper, Path out, TreeDigest content)
            throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".layer", ".partial");
        try {
            HashingOutputStream compressed;
            HashingOutputStream tarBytes;
            long count;
            try (OutputStream file = Files.newOutputStream(tmp)) {
                compressed = new HashingOutputStream(file);
                OutputStream codec = options.compression() == Compression.ZSTD
                        ? zstd(compressed, options.zstdLevel())
                        : new LeveledGzip(compressed, options.gzipLevel());
                tarBytes = new HashingOutputStream(codec);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes, "UTF-8");
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                tar.setAddPaxHeadersForNonAsciiNames(true);
                TarEntryWriter entries = new TarEntryWriter(tar, options.sourceDateEpoch(), content);
                Map<String, String> firstPathOfInode = new HashMap<>();
                try (RootFs fs = RootFs.open(root)) {
                    for (String rel : paths) {
                        writeOne(fs, rel, upper, entries, firstPathOfInode);
                    }
                }
                tar.finish();
                if (codec instanceof GZIPOutputStream gzip) {
                    gzip.finish();
                } else {
                    codec.close(); // ends the zstd frame; its wrapper leaves the file open
                }
                count = entries.count();
            }
            moveIntoPlace(tmp, out);
            return new LayerBlob(out, compressed.digest(), tarBytes.digest(), compressed.count(), count == 0);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** One entry, read through a descriptor opened on exactly that name: nothing outside the tree. */
    private static void writeOne(
            RootFs fs, String rel, boolean upper, TarEntryWriter entries, Map<String, String> firstPathOfInode)
            throws IOException {
        try (FileHandle file = fs.handleExact(rel)) {
            FileStat s = file.stat();
            FileMeta meta = FileMeta.of(s);
            switch (s.type()) {
                case S_IFDIR -> {
                    entries.directory(rel, meta, xattrs(file.procPath(), false));
                    if (upper && isOpaque(file)) {
                        entries.marker(LayerPaths.join(rel, Whiteouts.OPAQUE), meta);
                    }
                }
                case S_IFREG -> {
                    String inode = s.dev() + ":" + s.ino();
                    String first = s.nlink() > 1 ? firstPathOfInode.putIfAbsent(inode, rel) : null;
                    if (first != null) {
                        entries.hardlink(rel, first, meta);
                    } else {
                        entries.regular(rel, file.procPath(), meta, xattrs(file.procPath(), false));
                    }
                }
                case S_IFLNK -> {
                    try (FileHandle dir = fs.handleExact(LayerPaths.parent(rel))) {
                        // the link's own xattrs: its directory's descriptor, then a name not followed
                        Path link = dir.procPath().resolve(LayerPaths.name(rel));
                        entries.symlink(rel, file.readlink(), meta, xattrs(link, true));
                    }
                }
                case S_IFCHR, S_IFBLK, S_IFIFO -> {
                    long rdev = s.rdev();
                    if (upper && s.type() == S_IFCHR && rdev == 0) {
                        entries.marker(
                                LayerPaths.join(LayerPaths.parent(rel), Whiteouts.PREFIX + LayerPaths.name(rel)), meta);
                    } else {
                        entries.device(
                                rel,
                                s.type(),
                                LinuxFiles.major(rdev),
                                LinuxFiles.minor(rdev),
                                meta,
                                xattrs(file.procPath(), false));
                    }
                }
                default -> log.debug("skipping {}: sockets cannot be stored in a layer", rel);
            }
        }
    }

    private static boolean isOpaque(FileHandle dir) throws IOException {
        return LinuxFiles.getXattr(dir.procPath(), LinuxFiles.OVERLAY_OPAQUE_XATTR)
                .map(v -> v.length == 1 && v[0] == 'y')
                .orElse(false);
    }

    /**
     * xattrs worth keeping: overlayfs's own bookkeeping ({@code trusted.overlay.*}) is not content.
     * {@code /proc/self/fd/N} is followed (to the file it names); a symlink is read without following.
     */
    private static Map<String, byte[]> xattrs(Path file, boolean link) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        for (String name : link ? LinuxFiles.llistXattr(file) : LinuxFiles.listXattr(file)) {
            if (!name.startsWith("trusted.overlay.")) {
                (link ? LinuxFiles.lgetXattr(file, name) : LinuxFiles.getXattr(file, name))
                        .ifPresent(v -> out.put(name, v));
            }
        }
        return out;
    }

    private static void moveIntoPlace(Path tmp, Path out) throws IOException {
        try {
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A zstd stream with no checksum or size in its frames beyond the format's own: reproducible output. */
    static OutputStream zstd(OutputStream out, int level) throws IOException {
        ZstdOutputStream z = new ZstdOutputStream(
                new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        flush(); // the caller closes the file
                    }
                },
                level);
        return z;
    }

    /** GZIPOutputStream at a chosen level; its header carries no name and mtime 0, so output is reproducible. */
    static final class LeveledGzip extends GZIPOutputStream {
        LeveledGzip(OutputStream out, int level) throws IOException {
            super(out, 1 << 16);
            def.setLevel(level);
        }
    }
}
