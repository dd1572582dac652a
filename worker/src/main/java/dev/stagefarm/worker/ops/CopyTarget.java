package dev.stagefarm.worker.ops;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.fs.RootedPaths;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.Native;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The destination side of one COPY: the stage's root, held as a descriptor ({@link RootFs}). A
 * destination path is followed inside the root, as a process chrooted into the stage would follow
 * it, and the directories to write into are then walked and created by descriptor, one name at a
 * time, never through a link. Whatever the stage's tree holds or is changed into meanwhile, no file
 * outside the root is opened, created, chowned, chmod'ed or has its mtime set.
 */
final class CopyTarget implements AutoCloseable {

    private static final int DIR_MODE = 0755;

    private final RootFs fs;
    private final Owner owner;

    private CopyTarget(RootFs fs, Owner owner) {
        this.fs = fs;
        this.owner = owner;
    }

    /** @param owner of the directories a copy creates: the --chown owner, else root */
    static CopyTarget open(Path rootfs, Optional<Owner> owner) throws IOException {
        return new CopyTarget(RootFs.open(rootfs), owner.orElse(Owner.ROOT));
    }

    /** {@code path} with every link in it (the last too, dangling ones included) followed inside the root. */
    String follow(String path) throws IOException {
        return fs.follow(path, true);
    }

    boolean isDirectory(String path) throws IOException {
        return fs.stat(path).map(FileStat::isDirectory).orElse(false);
    }

    /**
     * The directory {@code path} (as {@link #follow} gives it), created with its missing parents: new
     * ones are 0755 and belong to the copy's owner, and a file in the way is replaced.
     */
    FileHandle mkdirs(String path) throws IOException {
        String clean = RootedPaths.clean(path);
        try {
            return fs.directory(clean);
        } catch (NoSuchFileException | Native.ErrnoException missingOrInTheWay) {
            // walked below, one name at a time
        }
        FileHandle dir = fs.directory("");
        try {
            for (String name : clean.isEmpty() ? new String[0] : clean.split("/")) {
                FileHandle next = enter(dir, name);
                dir.close();
                dir = next;
            }
            return dir;
        } catch (IOException | RuntimeException e) {
            dir.close();
            throw e;
        }
    }

    private FileHandle enter(FileHandle dir, String name) throws IOException {
        Optional<FileStat> s = dir.childStat(name);
        if (s.map(FileStat::isSymlink).orElse(false)) {
            // put there since the path was followed: followed too, inside the root, never replaced
            return fs.directory(fs.pathOf(dir) + "/" + name);
        }
        if (!s.map(FileStat::isDirectory).orElse(false)) {
            dir.removeTree(name);
            dir.mkdir(name, DIR_MODE);
            dir.chmod(name, DIR_MODE); // the umask took bits
            dir.chown(name, owner.uid(), owner.gid());
        }
        return dir.childDir(name);
    }

    /** The parent part of a clean relative path ("" for a name in the root). */
    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    @Override
    public void close() {
        fs.close();
    }
}
