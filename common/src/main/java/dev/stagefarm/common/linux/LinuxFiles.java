package dev.stagefarm.common.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The few Linux file calls the JDK lacks (device nodes, xattrs, lchown, utimensat without following
 * links), made through the foreign-function API. Errors are {@link IOException}s carrying the
 * kernel's own strerror text so that "Operation not permitted" reaches the user unchanged.
 *
 * <p>Callers need {@code --enable-native-access=ALL-UNNAMED} (or the module's name) on the JVM.
 */
public final class LinuxFiles {

    /** overlayfs marks a directory whose lower contents are hidden with this xattr set to "y". */
    public static final String OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int ENODATA = 61;
    private static final int ERANGE = 34;

    private static final StructLayout CALL_STATE = Native.CALL_STATE;

    private static final MethodHandle MKNOD = downcall("mknod", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG);
    private static final MethodHandle LCHOWN = downcall("lchown", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle FCHMODAT = downcall("fchmodat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle SETXATTR =
            downcall("setxattr", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle LSETXATTR =
            downcall("lsetxattr", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle GETXATTR = downcall("getxattr", JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle LGETXATTR =
            downcall("lgetxattr", JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle LISTXATTR = downcall("listxattr", JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle LLISTXATTR = downcall("llistxattr", JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle UTIMENSAT = downcall("utimensat", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);

    private LinuxFiles() {}

    /** Creates an overlayfs whiteout: a character device with device number 0:0. */
    public static void mknodWhiteout(Path path) throws IOException {
        mknod(path, S_IFCHR, 0, 0, 0);
    }

    /**
     * Creates a device node or FIFO. {@code type} is one of {@link #S_IFCHR}, {@link #S_IFBLK},
     * {@link #S_IFIFO}; {@code permissions} the low 12 mode bits (the umask still applies).
     */
    public static void mknod(Path path, int type, int permissions, int major, int minor) throws IOException {
        long dev = makedev(major, minor);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) MKNOD.invokeExact(state, cpath(arena, path), type | (permissions & 07777), dev);
            check(rc, state, "mknod", path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** True when {@code path} (not followed) is an overlayfs whiteout: a char device 0:0. */
    public static boolean isWhiteout(Path path) throws IOException {
        Map<String, Object> attrs = Files.readAttributes(path, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
        return ((Integer) attrs.get("mode") & S_IFMT) == S_IFCHR && (Long) attrs.get("rdev") == 0L;
    }

    /** Marks a directory opaque for overlayfs: lower directories' entries are hidden beneath it. */
    public static void setOpaque(Path dir) throws IOException {
        lsetXattr(dir, OVERLAY_OPAQUE_XATTR, new byte[] {'y'});
    }

    public static boolean isOpaque(Path dir) throws IOException {
        return lgetXattr(dir, OVERLAY_OPAQUE_XATTR)
                .map(v -> v.length == 1 && v[0] == 'y')
                .orElse(false);
    }

    public static void setXattr(Path path, String name, byte[] value) throws IOException {
        setxattr(SETXATTR, "setxattr", path, name, value);
    }

    /** Sets an xattr on a symlink itself rather than its target. */
    public static void lsetXattr(Path path, String name, byte[] value) throws IOException {
        setxattr(LSETXATTR, "lsetxattr", path, name, value);
    }

    /** The xattr's value, or empty when the file has no such attribute. */
    public static Optional<byte[]> getXattr(Path path, String name) throws IOException {
        return getxattr(GETXATTR, "getxattr", path, name);
    }

    public static Optional<byte[]> lgetXattr(Path path, String name) throws IOException {
        return getxattr(LGETXATTR, "lgetxattr", path, name);
    }

    /** Names of the xattrs of {@code path}, following a symlink. */
    public static List<String> listXattr(Path path) throws IOException {
        return listxattr(LISTXATTR, "listxattr", path);
    }

    /** Names of the xattrs of {@code path} itself, not following a symlink. */
    public static List<String> llistXattr(Path path) throws IOException {
        return listxattr(LLISTXATTR, "llistxattr", path);
    }

    /** chown that changes a symlink itself. */
    public static void lchown(Path path, int uid, int gid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) LCHOWN.invokeExact(state, cpath(arena, path), uid, gid);
            check(rc, state, "lchown", path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * chmod of a path that is not a symlink, in one system call: the JDK's
     * {@code Files.setAttribute(path, "unix:mode", …, NOFOLLOW_LINKS)} opens the file to fchmod it,
     * three calls (and an inode lookup) per file, which adds up over a layer's thousands of files.
     */
    public static void chmod(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) FCHMODAT.invokeExact(state, AT_FDCWD, cpath(arena, path), mode, 0);
            check(rc, state, "chmod", path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Sets access and modification time of {@code path} itself (symlinks too) to one instant. */
    public static void utimensNoFollow(Path path, long seconds, int nanos) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment times = arena.allocate(JAVA_LONG, 4); // struct timespec[2]
            times.setAtIndex(JAVA_LONG, 0, seconds);
            times.setAtIndex(JAVA_LONG, 1, nanos);
            times.setAtIndex(JAVA_LONG, 2, seconds);
            times.setAtIndex(JAVA_LONG, 3, nanos);
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) UTIMENSAT.invokeExact(state, AT_FDCWD, cpath(arena, path), times, AT_SYMLINK_NOFOLLOW);
            check(rc, state, "utimensat", path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Major number of a Linux {@code dev_t} (glibc's encoding). */
    public static int major(long dev) {
        return (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL));
    }

    public static int minor(long dev) {
        return (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL));
    }

    public static long makedev(int major, int minor) {
        long ma = Integer.toUnsignedLong(major);
        long mi = Integer.toUnsignedLong(minor);
        return ((ma & 0xfffL) << 8) | ((ma & ~0xfffL) << 32) | (mi & 0xffL) | ((mi & ~0xffL) << 12);
    }

    private static void setxattr(MethodHandle h, String call, Path path, String name, byte[] value) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc =
                    (int) h.invokeExact(state, cpath(arena, path), arena.allocateFrom(name), v, (long) value.length, 0);
            check(rc, state, call + " " + name, path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static Optional<byte[]> getxattr(MethodHandle h, String call, Path path, String name) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = cpath(arena, path);
            MemorySegment n = arena.allocateFrom(name);
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) { // the value can grow between the size probe and the read: retry on ERANGE
                long size = (long) h.invokeExact(state, p, n, MemorySegment.NULL, 0L);
                if (size < 0 && errno(state) == ENODATA) {
                    return Optional.empty();
                }
                check(size, state, call + " " + name, path);
                MemorySegment buf = arena.allocate(Math.max(1, size));
                long got = (long) h.invokeExact(state, p, n, buf, size);
                if (got < 0 && errno(state) == ERANGE) {
                    continue;
                }
                if (got < 0 && errno(state) == ENODATA) {
                    return Optional.empty();
                }
                check(got, state, call + " " + name, path);
                return Optional.of(buf.asSlice(0, got).toArray(JAVA_BYTE));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static List<String> listxattr(MethodHandle h, String call, Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = cpath(arena, path);
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) {
                long size = (long) h.invokeExact(state, p, MemorySegment.NULL, 0L);
                check(size, state, call, path);
                if (size == 0) {
                    return List.of();
                }
                MemorySegment buf = arena.allocate(size);
                long got = (long) h.invokeExact(state, p, buf, size);
                if (got < 0 && errno(state) == ERANGE) {
                    continue;
                }
                check(got, state, call, path);
                byte[] names = buf.asSlice(0, got).toArray(JAVA_BYTE);
                List<String> out = new ArrayList<>();
                int start = 0;
                for (int i = 0; i < names.length; i++) {
                    if (names[i] == 0) {
                        out.add(new String(names, start, i - start, StandardCharsets.UTF_8));
                        start = i + 1;
                    }
                }
                return out;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static MethodHandle downcall(String name, MemoryLayout result, MemoryLayout... args) {
        return Native.downcall(name, result, args);
    }

    private static MemorySegment cpath(Arena arena, Path path) {
        return arena.allocateFrom(path.toString());
    }

    private static int errno(MemorySegment state) {
        return Native.errno(state);
    }

    private static void check(long rc, MemorySegment state, String call, Path path) throws IOException {
        if (rc < 0) {
            throw Native.failure(call, path.toString(), errno(state));
        }
    }
}
