package dev.stagefarm.worker.ops;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.LinuxFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Copies files and trees from one descriptor to another: each source entry is opened by name in
 * its directory's descriptor without following a link, and each copy is created by name in the
 * destination directory's descriptor, so a link swapped in on either side meanwhile is copied as a
 * link or makes the copy fail, never leads outside either root.
 */
final class TreeCopier {

    private final Optional<Owner> owner;
    private final Optional<FileMode> mode;
    private final List<Pattern> excludes;
    private final HardLinks links;

    TreeCopier(Optional<Owner> owner, Optional<FileMode> mode, List<Pattern> excludes, HardLinks links) {
        this.owner = owner;
        this.mode = mode;
        this.excludes = excludes;
        this.links = links;
    }

    /**
     * Copies the contents of directory {@code from} into directory {@code to}. {@code rootRel} and
     * {@code matchRel} are {@code from}'s paths relative to the source root and to the matched
     * source, which exclude patterns are matched against.
     */
    void copyTree(FileHandle from, String rootRel, String matchRel, FileHandle to) throws IOException {
        for (String name : from.list()) {
            String childRoot = join(rootRel, name);
            String childMatch = join(matchRel, name);
            if (skip(childRoot, childMatch)) {
                continue;
            }
            try (FileHandle child = from.child(name)) {
                FileStat st = child.stat();
                if (!st.isDirectory()) {
                    copyEntry(child, st, to, name);
                    continue;
                }
                if (!to.childStat(name).map(FileStat::isDirectory).orElse(false)) {
                    to.removeTree(name);
                    to.mkdir(name, 0700); // its own mode is set once it is filled
                }
                try (FileHandle sub = to.childDir(name)) {
                    copyTree(child, childRoot, childMatch, sub);
                }
                applyAttributes(st, to, name);
            }
        }
    }

    /** Copies one entry that is not a directory (a file, link, FIFO or device) to {@code name} in {@code toDir}. */
    void copyEntry(FileHandle from, FileStat st, FileHandle toDir, String name) throws IOException {
        Optional<FileStat> existing = toDir.childStat(name);
        if (existing.map(FileStat::isDirectory).orElse(false)) {
            // COPY of a file onto an existing directory path replaces nothing silently
            throw new FileAlreadyExistsException(name, null, "cannot copy a file over a directory");
        }
        Optional<FileHandle> first = links.firstCopyOf(st);
        if (first.isPresent()) {
            // a second name of a file already copied in this step: the same inode, as in the source
            long ino = first.get().stat().ino();
            if (existing.map(e -> e.ino() != ino).orElse(true)) {
                toDir.removeTree(name);
                toDir.link(name, first.get());
            }
            return;
        }
        toDir.removeTree(name);
        if (st.isRegular()) {
            try (InputStream in = from.newInputStream();
                    OutputStream out = toDir.newOutputStream(name, 0600)) {
                in.transferTo(out);
            }
        } else if (st.isSymlink()) {
            toDir.symlink(name, from.readlink());
        } else {
            toDir.mknod(name, st.type(), 0600, LinuxFiles.major(st.rdev()), LinuxFiles.minor(st.rdev()));
        }
        applyAttributes(st, toDir, name);
        if (links.counts(st)) {
            links.copied(st, toDir.child(name));
        }
    }

    /** Owner, mode and mtime of the copy {@code name} in {@code toDir}, from the source's {@code st}. */
    void applyAttributes(FileStat st, FileHandle toDir, String name) throws IOException {
        // without --chown the source's owner is kept, directories included
        Owner o = owner.orElse(new Owner(st.uid(), st.gid()));
        toDir.chown(name, o.uid(), o.gid());
        if (st.isSymlink()) {
            return;
        }
        // after chown, which clears setuid and setgid
        int bits = st.permissions();
        toDir.chmod(name, mode.isPresent() ? mode.get().apply(bits, st.isDirectory()) : bits);
        toDir.setTimes(name, st.mtimeSeconds(), st.mtimeNanos());
    }

    private boolean skip(String rootRel, String matchRel) {
        return !excludes.isEmpty()
                && (CopyExecutor.excluded(rootRel, excludes) || CopyExecutor.excluded(matchRel, excludes));
    }

    static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }
}
