package dev.stagefarm.common.fs;

import dev.stagefarm.common.linux.FdCalls;
import dev.stagefarm.common.linux.FileStat;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * An O_PATH descriptor of one file found inside a root. Operations on it act on that very file,
 * whatever happens to the path it was found by afterwards: {@code /proc/self/fd/N} names the open
 * file itself, not a path to walk again.
 */
public final class FileHandle implements AutoCloseable {

    private final int fd;
    private boolean closed;

    FileHandle(int fd) {
        this.fd = fd;
    }

    public int fd() {
        return fd;
    }

    /** The file's name for calls made by this process; reopening it reaches the same inode. */
    public Path procPath() {
        return Path.of("/proc/self/fd/" + fd);
    }

    /** The file itself (a symlink is not followed: the handle was opened on what it names). */
    public FileStat stat() throws IOException {
        return FdCalls.statx(fd, "", FdCalls.AT_EMPTY_PATH | FdCalls.AT_SYMLINK_NOFOLLOW);
    }

    public String readlink() throws IOException {
        return FdCalls.readlinkat(fd, "");
    }

    public void chown(int uid, int gid) throws IOException {
        FdCalls.fchownat(fd, "", uid, gid, FdCalls.AT_EMPTY_PATH | FdCalls.AT_SYMLINK_NOFOLLOW);
    }

    /** chmod of a file that is not a symlink (Linux symlinks have no mode of their own). */
    public void chmod(int mode) throws IOException {
        FdCalls.fchmodat(FdCalls.AT_FDCWD, procPath().toString(), mode & 07777);
    }

    /** Sets atime and mtime of a file that is not a symlink. */
    public void setTimes(long seconds, int nanos) throws IOException {
        FdCalls.utimensat(FdCalls.AT_FDCWD, procPath().toString(), seconds, nanos, 0);
    }

    /** The entry {@code name} of this directory itself: not followed if it is a link, never left. */
    public FileHandle child(String name) throws IOException {
        return new FileHandle(FdCalls.openat2(
                fd,
                checkName(name),
                FdCalls.O_PATH | FdCalls.O_NOFOLLOW,
                0,
                FdCalls.RESOLVE_BENEATH | FdCalls.RESOLVE_NO_SYMLINKS | FdCalls.RESOLVE_NO_MAGICLINKS));
    }

    /** Names in this directory, sorted. */
    public List<String> list() throws IOException {
        try (Stream<Path> s = Files.list(procPath())) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Removes the entry {@code name} of this directory (an empty directory when {@code dir}). */
    public void remove(String name, boolean dir) throws IOException {
        FdCalls.unlinkat(fd, checkName(name), dir ? FdCalls.AT_REMOVEDIR : 0);
    }

    /** What the entry {@code name} of this directory is (a link not followed), or empty when there is none. */
    public Optional<FileStat> childStat(String name) throws IOException {
        try {
            return Optional.of(FdCalls.statx(fd, checkName(name), FdCalls.AT_SYMLINK_NOFOLLOW));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** A new directory {@code name} in this one. */
    public void mkdir(String name, int mode) throws IOException {
        FdCalls.mkdirat(fd, checkName(name), mode);
    }

    /** A new symlink {@code name} in this directory, pointing at {@code target} (never followed here). */
    public void symlink(String name, String target) throws IOException {
        FdCalls.symlinkat(target, fd, checkName(name));
    }

    /** A new hard link {@code name} in this directory to the file {@code target} is open on. */
    public void link(String name, FileHandle target) throws IOException {
        FdCalls.linkat(FdCalls.AT_FDCWD, target.procPath().toString(), fd, checkName(name), FdCalls.AT_SYMLINK_FOLLOW);
    }

    /**
     * Creates or truncates the regular file {@code name} in this directory; a symlink there is an
     * error (ELOOP), never followed.
     */
    public OutputStream newOutputStream(String name, int mode) throws IOException {
        try (FileHandle f = new FileHandle(FdCalls.openat2(
                fd,
                checkName(name),
                FdCalls.O_WRONLY | FdCalls.O_CREAT | FdCalls.O_TRUNC | FdCalls.O_NOFOLLOW,
                mode,
                FdCalls.RESOLVE_BENEATH | FdCalls.RESOLVE_NO_SYMLINKS | FdCalls.RESOLVE_NO_MAGICLINKS))) {
            return new FileOutputStream(f.procPath().toFile());
        }
    }

    /** Removes the entry {@code name} of this directory, a whole tree if it is one; links are removed, not followed. */
    public void removeTree(String name) throws IOException {
        Optional<FileStat> s = childStat(name);
        if (s.isEmpty()) {
            return;
        }
        if (s.get().isDirectory()) {
            try (FileHandle dir = new FileHandle(FdCalls.openat2(
                    fd,
                    checkName(name),
                    FdCalls.O_PATH | FdCalls.O_DIRECTORY | FdCalls.O_NOFOLLOW,
                    0,
                    FdCalls.RESOLVE_BENEATH | FdCalls.RESOLVE_NO_SYMLINKS | FdCalls.RESOLVE_NO_MAGICLINKS))) {
                for (String child : dir.list()) {
                    dir.removeTree(child);
                }
            }
        }
        remove(name, s.get().isDirectory());
    }

    private static String checkName(String name) {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("not a name in a directory: '" + name + "'");
        }
        return name;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            FdCalls.close(fd);
        }
    }
}
