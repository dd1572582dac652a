package dev.stagefarm.worker.ops;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.linux.FileStat;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorException;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.apache.commons.compress.compressors.xz.XZUtils;

/**
 * ADD's archive handling: a local tar, plain or compressed with gzip, bzip2 or xz (told apart by
 * content, never by name), is unpacked into the destination with its owners, modes and times.
 */
final class ArchiveExtractor {

    /**
     * An xz or lzma header names the dictionary the decoder allocates: xz -9 needs 64 MiB, a
     * hostile header asks for gigabytes. Past this the file is not read as compressed.
     */
    private static final int DECODER_MEMORY_KIB = 256 * 1024;

    private final InputLimits limits;

    ArchiveExtractor(InputLimits limits) {
        this.limits = limits;
    }

    ArchiveExtractor() {
        this(InputLimits.DEFAULTS);
    }

    /**
     * Whether the file, once decompressed, starts with a tar header, as Docker decides. A small
     * compressed file is judged by what it decompresses to too: a gzipped text file is copied.
     */
    boolean isArchive(Path file) throws IOException {
        return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                && isArchive(file, file.getFileName().toString());
    }

    /** {@link #isArchive(Path)} of a regular file, e.g. a descriptor's {@code /proc/self/fd/N}, named {@code name}. */
    boolean isArchive(Path file, String name) throws IOException {
        try (InputStream in = open(file, new ExtractBudget(limits, name))) {
            byte[] header = in.readNBytes(512);
            return header.length == 512 && TarArchiveInputStream.matches(header, header.length);
        } catch (IOException notAnArchive) {
            return false;
        }
    }

    /** The compressions Docker's archive package detects; anything else is read as it is. */
    private static final Set<String> COMPRESSIONS =
            Set.of(CompressorStreamFactory.GZIP, CompressorStreamFactory.BZIP2, CompressorStreamFactory.XZ);

    private static InputStream open(Path file, ExtractBudget budget) throws IOException {
        InputStream in = new BufferedInputStream(budget.compressed(Files.newInputStream(file)), 1 << 16);
        String kind;
        try {
            kind = CompressorStreamFactory.detect(in);
        } catch (CompressorException plain) {
            return budget.expanded(in);
        }
        if (!COMPRESSIONS.contains(kind)) {
            return budget.expanded(in);
        }
        if (kind.equals(CompressorStreamFactory.XZ) && !XZUtils.isXZCompressionAvailable()) {
            // a worker built without org.tukaani:xz would quietly copy .tar.xz files instead
            in.close();
            throw new IllegalStateException("org.tukaani:xz is missing from this worker's class path");
        }
        try {
            return budget.expanded(
                    new CompressorStreamFactory(false, DECODER_MEMORY_KIB).createCompressorInputStream(kind, in));
        } catch (CompressorException corrupt) {
            // not a readable stream of that kind: Docker copies such a file as it is
            return budget.expanded(in);
        }
    }

    /**
     * Unpacks into {@code dest} as into a chroot, within the worker's {@link InputLimits}: every
     * entry is created through a descriptor of its parent directory, resolved by the kernel inside
     * {@code dest} ({@link RootFs}), so no symlink in the archive or already in the stage leads out.
     *
     * @throws CopyException when the archive goes past a limit: one sentence naming the flag to raise
     */
    void extract(Path archive, Path dest, Optional<Owner> owner) throws CopyException, IOException {
        extract(archive, archive.getFileName().toString(), dest, owner);
    }

    /** {@link #extract(Path, Path, Optional)} of an archive named {@code name} (in limit errors). */
    void extract(Path archive, String name, Path dest, Optional<Owner> owner) throws CopyException, IOException {
        ExtractBudget budget = new ExtractBudget(limits, name);
        LinkedHashMap<String, FileTime> dirTimes = new LinkedHashMap<>();
        byte[] buffer = new byte[1 << 16];
        try (RootFs fs = RootFs.open(dest);
                TarArchiveInputStream tar = new TarArchiveInputStream(open(archive, budget))) {
            for (TarArchiveEntry e = null; ; ) {
                // what the last entry left unread is data, not header: drain it, counted, before the next
                while (e != null && tar.read(buffer) > 0) {
                    // counted by the budget as it passes
                }
                budget.headers();
                e = tar.getNextEntry();
                if (e == null) {
                    break;
                }
                budget.entry();
                String path = CopyExecutor.clean(e.getName());
                if (path.isEmpty()) {
                    try (FileHandle root = fs.handle("", false)) {
                        applyMeta(root, e, owner);
                    }
                    dirTimes.put("", mtime(e));
                    continue;
                }
                int slash = path.lastIndexOf('/');
                String leaf = path.substring(slash + 1);
                try (FileHandle parent = fs.mkdirs(slash < 0 ? "" : path.substring(0, slash), 0755)) {
                    if (!unpack(fs, parent, leaf, e, tar, budget, buffer)) {
                        continue;
                    }
                    try (FileHandle entry = parent.child(leaf)) {
                        applyMeta(entry, e, owner);
                    }
                }
                if (e.isDirectory()) {
                    dirTimes.put(path, mtime(e));
                }
            }
            // directory times last: writing into a directory changes its mtime
            for (var d : dirTimes.reversed().entrySet()) {
                Instant t = d.getValue().toInstant();
                fs.setTimes(d.getKey(), t.getEpochSecond(), t.getNano());
            }
        } catch (ExtractBudget.LimitException e) {
            throw new CopyException(e.getMessage());
        }
    }

    /** Creates one entry in {@code parent}; false when it takes no metadata of its own (skipped, hard link). */
    private static boolean unpack(
            RootFs fs,
            FileHandle parent,
            String leaf,
            TarArchiveEntry e,
            TarArchiveInputStream tar,
            ExtractBudget budget,
            byte[] buffer)
            throws IOException {
        if (e.isDirectory()) {
            if (!parent.childStat(leaf).map(FileStat::isDirectory).orElse(false)) {
                parent.removeTree(leaf);
                parent.mkdir(leaf, 0755);
            }
        } else if (e.isSymbolicLink()) {
            parent.removeTree(leaf);
            parent.symlink(leaf, e.getLinkName());
        } else if (e.isLink()) {
            parent.removeTree(leaf);
            try (FileHandle target = fs.handle(CopyExecutor.clean(e.getLinkName()), false)) {
                parent.link(leaf, target);
            }
            return false; // a hard link shares its target's metadata
        } else if (e.isFile()) {
            parent.removeTree(leaf);
            try (OutputStream out = parent.newOutputStream(leaf, 0600)) {
                for (int n; (n = tar.read(buffer)) > 0; ) {
                    // the entry's size is a header's claim (and sparse entries expand): count what is written
                    budget.wrote(n);
                    out.write(buffer, 0, n);
                }
            }
        } else {
            return false; // device nodes and fifos have no place in an image built here
        }
        return true;
    }

    private static FileTime mtime(TarArchiveEntry e) {
        return FileTime.from(e.getLastModifiedTime().toInstant());
    }

    private static void applyMeta(FileHandle target, TarArchiveEntry e, Optional<Owner> owner) throws IOException {
        Owner o = owner.orElse(new Owner((int) e.getLongUserId(), (int) e.getLongGroupId()));
        target.chown(o.uid(), o.gid());
        if (e.isSymbolicLink()) {
            return;
        }
        target.chmod(e.getMode() & 07777);
        if (!e.isDirectory()) {
            Instant t = mtime(e).toInstant();
            target.setTimes(t.getEpochSecond(), t.getNano());
        }
    }
}
