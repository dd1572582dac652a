package dev.stagefarm.common.fs;

import dev.stagefarm.common.linux.FdCalls;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.LinuxFiles;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
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
        return openChild(name, FdCalls.O_PATH | FdCalls.O_NOFOLLOW, 0);
    }

    /**
     * The directory {@code name} in this one; a symlink there (put there meanwhile, too) is an error
     * (ELOOP or ENOTDIR), never a way out.
     */
    public FileHandle childDir(String name) throws IOException {
        return openChild(name, FdCalls.O_PATH | FdCalls.O_DIRECTORY | FdCalls.O_NOFOLLOW, 0);
    }

    private FileHandle openChild(String name, int flags, int mode) throws IOException {
        return new FileHandle(FdCalls.openat2(
                fd,
                checkName(name),
                flags,
                mode,
                FdCalls.RESOLVE_BENEATH | FdCalls.RESOLVE_NO_SYMLINKS | FdCalls.RESOLVE_NO_MAGICLINKS));
    }

    /**
     * Reads the regular file this handle is on. Anything else (a FIFO that would block the reader, a
     * device) is refused, judged on the very file that is then opened.
     */
    public InputStream newInputStream() throws IOException {
        if (!stat().isRegular()) {
            throw new FileSystemException(procPath().toString(), null, "not a regular file");
        }
        return new FileInputStream(procPath().toFile());
    }

    /** The target of the symlink {@code name} in this directory. */
    public String readlink(String name) throws IOException {
        return FdCalls.readlinkat(fd, checkName(name));
    }

    /** A device node, FIFO or socket {@code name} in this directory; {@code type} e.g. {@link LinuxFiles#S_IFCHR}. */
    public void mknod(String name, int type, int permissions, int major, int minor) throws IOException {
        FdCalls.mknodat(fd, checkName(name), type | (permissions & 07777), LinuxFiles.makedev(major, minor));
    }

    /** chown of the entry {@code name} of this directory itself (a link is not followed). */
    public void chown(String name, int uid, int gid) throws IOException {
        FdCalls.fchownat(fd, checkName(name), uid, gid, FdCalls.AT_SYMLINK_NOFOLLOW);
    }

    /** chmod of the entry {@code name} of this directory; a symlink there is left alone (it has no mode). */
    public void chmod(String name, int mode) throws IOException {
        try (FileHandle h = child(name)) {
            if (!h.stat().isSymlink()) {
                h.chmod(mode);
            }
        }
    }

    /** Sets atime and mtime of the entry {@code name} of this directory itself, a symlink included. */
    public void setTimes(String name, long seconds, int nanos) throws IOException {
        FdCalls.utimensat(fd, checkName(name), seconds, nanos, FdCalls.AT_SYMLINK_NOFOLLOW);
    }

    /** Sets an extended attribute of the entry {@code name} of this directory itself, a symlink included. */
    public void setXattr(String name, String key, byte[] value) throws IOException {
        LinuxFiles.lsetXattr(procPath().resolve(checkName(name)), key, value);
    }

    /** Sets an extended attribute of the file this handle is on. */
    public void setXattr(String key, byte[] value) throws IOException {
        LinuxFiles.setXattr(procPath(), key, value);
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
        try (FileHandle f =
                openChild(name, FdCalls.O_WRONLY | FdCalls.O_CREAT | FdCalls.O_TRUNC | FdCalls.O_NOFOLLOW, mode)) {
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
            try (FileHandle dir = childDir(name)) {
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
