package dev.stagefarm.worker.ops;

import dev.stagefarm.common.fs.RootPath;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (InputStream in =
                open(file, new ExtractBudget(limits, file.getFileName().toString()))) {
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
     * Unpacks into {@code dest}, within the worker's {@link InputLimits}.
     *
     * @throws CopyException when the archive goes past a limit: one sentence naming the flag to raise
     */
    void extract(Path archive, Path dest, Optional<Owner> owner) throws CopyException, IOException {
        ExtractBudget budget = new ExtractBudget(limits, archive.getFileName().toString());
        List<Runnable> dirTimes = new ArrayList<>();
        byte[] buffer = new byte[1 << 16];
        try (TarArchiveInputStream tar = new TarArchiveInputStream(open(archive, budget))) {
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
                String name = CopyExecutor.clean(e.getName());
                if (name.isEmpty()) {
                    applyMeta(dest, e, owner, dirTimes);
                    continue;
                }
                Path target = RootPath.resolveNoFollow(dest, name);
                Files.createDirectories(target.getParent());
                if (e.isDirectory()) {
                    if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        Files.deleteIfExists(target);
                        Files.createDirectory(target);
                    }
                } else if (e.isSymbolicLink()) {
                    replace(target);
                    Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    replace(target);
                    Files.createLink(target, RootPath.resolveNoFollow(dest, CopyExecutor.clean(e.getLinkName())));
                    continue; // a hard link shares its target's metadata
                } else if (e.isFile()) {
                    replace(target);
                    try (OutputStream out = Files.newOutputStream(target)) {
                        for (int n; (n = tar.read(buffer)) > 0; ) {
                            // the entry's size is a header's claim (and sparse entries expand): count what is written
                            budget.wrote(n);
                            out.write(buffer, 0, n);
                        }
                    }
                } else {
                    continue; // device nodes and fifos have no place in an image built here
                }
                applyMeta(target, e, owner, dirTimes);
            }
        } catch (ExtractBudget.LimitException e) {
            throw new CopyException(e.getMessage());
        }
        // directory times last: writing into a directory changes its mtime
        dirTimes.reversed().forEach(Runnable::run);
    }

    private static void replace(Path target) throws IOException {
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            try (var walk = Files.walk(target)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        } else {
            Files.deleteIfExists(target);
        }
    }

    private static void applyMeta(Path target, TarArchiveEntry e, Optional<Owner> owner, List<Runnable> dirTimes)
            throws IOException {
        Owner o = owner.orElse(new Owner((int) e.getLongUserId(), (int) e.getLongGroupId()));
        CopyExecutor.chown(target, o);
        if (e.isSymbolicLink()) {
            return;
        }
        Files.setAttribute(target, "unix:mode", e.getMode() & 07777);
        FileTime mtime = FileTime.from(e.getLastModifiedTime().toInstant());
        if (e.isDirectory()) {
            dirTimes.add(() -> {
                try {
                    Files.setLastModifiedTime(target, mtime);
                } catch (IOException ignored) {
                    // a time is not worth failing a build over
                }
            });
        } else {
            Files.setLastModifiedTime(target, mtime);
        }
    }
}
