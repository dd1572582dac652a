package dev.stagefarm.common.fs;

import static dev.stagefarm.common.linux.FdCalls.O_CREAT;
import static dev.stagefarm.common.linux.FdCalls.O_DIRECTORY;
import static dev.stagefarm.common.linux.FdCalls.O_NOFOLLOW;
import static dev.stagefarm.common.linux.FdCalls.O_PATH;
import static dev.stagefarm.common.linux.FdCalls.O_TRUNC;
import static dev.stagefarm.common.linux.FdCalls.O_WRONLY;

import dev.stagefarm.common.linux.FdCalls;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.Native;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A directory tree (a stage's rootfs, an image, a build context, a cache mount) whose paths are
 * resolved the way a process chrooted into it would resolve them. The kernel does the walk
 * ({@code openat2} with {@code RESOLVE_IN_ROOT}): absolute symlinks and ".." stop at the root, magic
 * links ({@code /proc/self/root}) are refused, and every operation then acts on the descriptor it
 * got, so a concurrent swap of a directory for a symlink cannot send it outside the root.
 *
 * <p>Paths are cleaned lexically first, as Docker cleans the paths a Dockerfile names.
 */
public final class RootFs implements AutoCloseable {

    private static final long IN_ROOT = FdCalls.RESOLVE_IN_ROOT | FdCalls.RESOLVE_NO_MAGICLINKS;
    private static final int MAX_LINKS = 40;

    private final Path root;
    private final FileHandle rootHandle;

    private RootFs(Path root, FileHandle rootHandle) {
        this.root = root;
        this.rootHandle = rootHandle;
    }

    /** Opens {@code root}, an operator's path: it is trusted, what lies below it is not. */
    public static RootFs open(Path root) throws IOException {
        Path abs = root.toAbsolutePath().normalize();
        int fd = FdCalls.openat2(FdCalls.AT_FDCWD, abs.toString(), O_PATH | O_DIRECTORY, 0, 0);
        return new RootFs(abs, new FileHandle(fd));
    }

    public Path root() {
        return root;
    }

    /** An O_PATH handle of {@code path}; a symlink at the last component is followed only if asked. */
    public FileHandle handle(String path, boolean followLast) throws IOException {
        return new FileHandle(open(path, O_PATH | (followLast ? 0 : O_NOFOLLOW), 0));
    }

    /**
     * An O_PATH handle of {@code path} exactly as named: no component before the last may be a
     * symlink (ELOOP otherwise) and the last is not followed. For trees written out as they are
     * (layers, artifacts), where a link is an entry, never a way through.
     */
    public FileHandle handleExact(String path) throws IOException {
        String clean = RootedPaths.clean(path);
        return new FileHandle(FdCalls.openat2(
                rootHandle.fd(),
                clean.isEmpty() ? "." : clean,
                O_PATH | O_NOFOLLOW,
                0,
                FdCalls.RESOLVE_BENEATH | FdCalls.RESOLVE_NO_SYMLINKS | FdCalls.RESOLVE_NO_MAGICLINKS));
    }

    /** The directory {@code path} leads to, every symlink followed inside the root. */
    public FileHandle directory(String path) throws IOException {
        return new FileHandle(open(path, O_PATH | O_DIRECTORY, 0));
    }

    /**
     * The directory {@code path} exactly as named: a symlink anywhere in it is an error (ELOOP), a
     * file an error (ENOTDIR). For trees written out as they are (layers).
     */
    public FileHandle directoryExact(String path) throws IOException {
        String clean = RootedPaths.clean(path);
        return new FileHandle(FdCalls.openat2(
                rootHandle.fd(),
                clean.isEmpty() ? "." : clean,
                O_PATH | O_DIRECTORY | O_NOFOLLOW,
                0,
                FdCalls.RESOLVE_BENEATH | FdCalls.RESOLVE_NO_SYMLINKS | FdCalls.RESOLVE_NO_MAGICLINKS));
    }

    /** Where the file a handle of this root is open on is now, as a clean relative path ("" for the root). */
    public String pathOf(FileHandle handle) throws IOException {
        return relative(Files.readSymbolicLink(handle.procPath()));
    }

    /**
     * Where {@code path} leads inside the root, as a clean relative path, like {@link #resolve} but
     * also through a dangling link (to the path it names, which a write may then create), as a
     * process chrooted into the root would create it. Each link is read through the kernel's
     * resolution inside the root, so the answer always names a path inside it.
     */
    public String follow(String path, boolean followLast) throws IOException {
        ArrayDeque<String> todo =
                new ArrayDeque<>(List.of(RootedPaths.clean(path).split("/")));
        String at = "";
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.poll();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                at = at.contains("/") ? at.substring(0, at.lastIndexOf('/')) : "";
                continue;
            }
            String next = at.isEmpty() ? part : at + "/" + part;
            boolean link = (followLast || !todo.isEmpty())
                    && lstat(next).map(FileStat::isSymlink).orElse(false);
            if (!link) {
                at = next;
                continue;
            }
            if (++links > MAX_LINKS) {
                throw Native.failure("follow", path, Native.ELOOP);
            }
            String target = readlink(next);
            List<String> rest = new ArrayList<>(List.of(target.split("/")));
            rest.addAll(todo);
            todo = new ArrayDeque<>(rest);
            if (target.startsWith("/")) {
                at = "";
            }
        }
        return at;
    }

    /** The file itself, or empty when nothing (not even a dangling link) is there. */
    public Optional<FileStat> lstat(String path) throws IOException {
        return stat(path, false);
    }

    /** What the path leads to after every symlink, or empty when nothing does. */
    public Optional<FileStat> stat(String path) throws IOException {
        return stat(path, true);
    }

    private Optional<FileStat> stat(String path, boolean follow) throws IOException {
        try (FileHandle h = handle(path, follow)) {
            return Optional.of(h.stat());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (Native.ErrnoException e) {
            if (e.errno() == Native.ENOTDIR) { // a parent is a file: nothing there either
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * Reads a regular file. Anything else (a FIFO that would block the worker, a device) is refused,
     * judged on the very file that is then opened.
     */
    public InputStream newInputStream(String path) throws IOException {
        try (FileHandle h = handle(path, true)) {
            if (!h.stat().isRegular()) {
                throw new FileSystemException(path, null, "not a regular file");
            }
            return h.newInputStream();
        }
    }

    /**
     * Creates or truncates a regular file; its parent must exist. A symlink at the last component is
     * followed inside the root, as {@code open(O_CREAT)} would in the container.
     */
    public OutputStream newOutputStream(String path, int mode) throws IOException {
        try (FileHandle h = new FileHandle(open(path, O_WRONLY | O_CREAT | O_TRUNC, mode))) {
            return new FileOutputStream(h.procPath().toFile());
        }
    }

    /** {@code mkdir -p} inside the root; new directories get {@code mode} (less the umask). */
    public FileHandle mkdirs(String path, int mode) throws IOException {
        return mkdirs(RootedPaths.clean(path), mode, 0);
    }

    private FileHandle mkdirs(String clean, int mode, int links) throws IOException {
        try {
            return new FileHandle(open(clean, O_PATH | O_DIRECTORY, 0));
        } catch (NoSuchFileException e) {
            // missing below: make the parent, then this one in it
        }
        int slash = clean.lastIndexOf('/');
        String parentPath = slash < 0 ? "" : clean.substring(0, slash);
        String name = clean.substring(slash + 1);
        try (FileHandle parent = mkdirs(parentPath, mode, links)) {
            try {
                FdCalls.mkdirat(parent.fd(), name, mode);
            } catch (FileAlreadyExistsException e) {
                FileStat s = FdCalls.statx(parent.fd(), name, FdCalls.AT_SYMLINK_NOFOLLOW);
                if (s.isSymlink()) { // dangling: make what it points to, inside the root
                    if (links >= MAX_LINKS) {
                        throw Native.failure("mkdir", clean, Native.ELOOP);
                    }
                    String target = FdCalls.readlinkat(parent.fd(), name);
                    String next = target.startsWith("/") ? target : parentPath + "/" + target;
                    return mkdirs(RootedPaths.clean(next), mode, links + 1);
                }
            }
            return new FileHandle(FdCalls.openat2(
                    parent.fd(), name, O_PATH | O_DIRECTORY, 0, FdCalls.RESOLVE_BENEATH | FdCalls.RESOLVE_NO_SYMLINKS));
        }
    }

    /**
     * {@code mkdir -p} where each directory it creates gets exactly {@code mode} and the owner (WORKDIR,
     * as BuildKit makes it); existing ones are left as they are.
     *
     * @throws java.nio.file.NotDirectoryException when a file is in the way
     */
    public void createDirectories(String path, int mode, int uid, int gid) throws IOException {
        Optional<FileStat> existing = stat(path);
        if (existing.isPresent()) {
            if (!existing.get().isDirectory()) {
                throw new NotDirectoryException(path);
            }
            return;
        }
        String at = "";
        for (String part : RootedPaths.clean(path).split("/")) {
            at = at.isEmpty() ? part : at + "/" + part;
            Optional<FileStat> s = stat(at);
            if (s.isEmpty()) {
                try (FileHandle dir = mkdirs(at, mode)) {
                    dir.chmod(mode);
                    dir.chown(uid, gid);
                }
            } else if (!s.get().isDirectory()) {
                throw new NotDirectoryException(at);
            }
        }
    }

    public String readlink(String path) throws IOException {
        try (FileHandle h = handle(path, false)) {
            return h.readlink();
        }
    }

    /** Names in a directory, sorted. */
    public List<String> list(String path) throws IOException {
        try (FileHandle h = new FileHandle(open(path, O_PATH | O_DIRECTORY, 0));
                Stream<Path> s = Files.list(h.procPath())) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** chown of the file itself, never of what a symlink points to. */
    public void chown(String path, int uid, int gid) throws IOException {
        try (FileHandle h = handle(path, false)) {
            h.chown(uid, gid);
        }
    }

    /** chmod of the file itself; a symlink is left as it is (Linux ignores a link's mode). */
    public void chmod(String path, int mode) throws IOException {
        try (FileHandle h = handle(path, false)) {
            if (!h.stat().isSymlink()) {
                h.chmod(mode);
            }
        }
    }

    /** Sets atime and mtime of the file itself, a symlink included. */
    public void setTimes(String path, long seconds, int nanos) throws IOException {
        String clean = RootedPaths.clean(path);
        try (FileHandle h = handle(clean, false)) {
            if (!h.stat().isSymlink()) {
                h.setTimes(seconds, nanos);
                return;
            }
        }
        // a link: through its directory's descriptor and a name that is not followed
        int slash = clean.lastIndexOf('/');
        try (FileHandle parent = new FileHandle(open(slash < 0 ? "" : clean.substring(0, slash), O_PATH, 0))) {
            FdCalls.utimensat(parent.fd(), clean.substring(slash + 1), seconds, nanos, FdCalls.AT_SYMLINK_NOFOLLOW);
        }
    }

    /**
     * Where {@code path} leads inside the root, as a clean relative path ("" for the root itself):
     * the kernel's answer for the descriptor it opened.
     */
    public String resolve(String path, boolean followLast) throws IOException {
        try (FileHandle h = handle(path, followLast)) {
            return relative(Files.readSymbolicLink(h.procPath()));
        }
    }

    /**
     * The host path of what {@code path} leads to. Only for handing to another process (runc's
     * bind mounts): the answer is right as long as nobody changes the tree in between, so a tree a
     * build can change concurrently must be opened through a handle instead.
     */
    public Path hostPath(String path) throws IOException {
        return root.resolve(resolve(path, true));
    }

    private String relative(Path real) throws IOException {
        Path rootReal = Files.readSymbolicLink(rootHandle.procPath());
        if (!real.startsWith(rootReal)) {
            throw new IOException(real + " is not below " + rootReal + ": the tree was moved while in use");
        }
        return rootReal.relativize(real).toString();
    }

    private int open(String path, int flags, int mode) throws IOException {
        String clean = RootedPaths.clean(path);
        return FdCalls.openat2(rootHandle.fd(), clean.isEmpty() ? "." : clean, flags, mode, IN_ROOT);
    }

    @Override
    public void close() {
        rootHandle.close();
    }
}
