package dev.stagefarm.common.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * System calls relative to a directory descriptor ({@code *at}), the building blocks of a resolver
 * that never leaves its root. {@code openat2} has no glibc wrapper on Debian 12 (glibc 2.36), so it
 * goes through syscall(2); its number, 437, is the same on every architecture.
 */
public final class FdCalls {

    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;
    private static final boolean ARM = System.getProperty("os.arch").equals("aarch64");
    public static final int O_DIRECTORY = ARM ? 040000 : 0200000;
    public static final int O_NOFOLLOW = ARM ? 0100000 : 0400000;

    /** Symlinks and ".." are resolved as if the directory descriptor were "/" (chroot-like). */
    public static final long RESOLVE_IN_ROOT = 0x10;
    /** Fails on any path that would leave the directory descriptor. */
    public static final long RESOLVE_BENEATH = 0x08;

    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    /** /proc/self/fd/N and /proc/self/root style links are never followed. */
    public static final long RESOLVE_NO_MAGICLINKS = 0x02;

    private static final long SYS_OPENAT2 = 437;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final int EAGAIN_RETRIES = 64;

    private static final MethodHandle SYSCALL = Native.downcall(
            "syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle CLOSE = Native.downcall("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle MKDIRAT = Native.downcall("mkdirat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle MKNODAT =
            Native.downcall("mknodat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG);
    private static final MethodHandle UNLINKAT = Native.downcall("unlinkat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle SYMLINKAT = Native.downcall("symlinkat", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
    private static final MethodHandle LINKAT =
            Native.downcall("linkat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle FCHOWNAT =
            Native.downcall("fchownat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle FCHMODAT =
            Native.downcall("fchmodat", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle UTIMENSAT =
            Native.downcall("utimensat", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
    private static final MethodHandle READLINKAT =
            Native.downcall("readlinkat", JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle STATX =
            Native.downcall("statx", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);

    private FdCalls() {}

    /** openat2(2): a new descriptor for {@code path} below {@code dirfd}, resolved as {@code resolve} says. */
    public static int openat2(int dirfd, String path, int flags, int mode, long resolve) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment how = arena.allocate(JAVA_LONG, 3); // struct open_how {flags, mode, resolve}
            how.setAtIndex(JAVA_LONG, 0, Integer.toUnsignedLong(flags | O_CLOEXEC));
            how.setAtIndex(JAVA_LONG, 1, (flags & O_CREAT) != 0 ? mode & 07777 : 0);
            how.setAtIndex(JAVA_LONG, 2, resolve);
            MemorySegment p = arena.allocateFrom(path);
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            for (int attempt = 0; ; attempt++) {
                long fd = (long) SYSCALL.invokeExact(state, SYS_OPENAT2, (long) dirfd, p, how, how.byteSize());
                if (fd >= 0) {
                    return (int) fd;
                }
                // EAGAIN: a rename elsewhere raced with ".." resolution; the kernel asks us to try again
                if (Native.errno(state) != Native.EAGAIN || attempt == EAGAIN_RETRIES) {
                    throw Native.failure("openat2", path, Native.errno(state));
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Native.unexpected(t);
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(Native.CALL_STATE), fd);
        } catch (Throwable t) {
            throw Native.unexpected(t);
        }
    }

    public static void mkdirat(int dirfd, String name, int mode) throws IOException {
        call("mkdirat", name, a -> (int) MKDIRAT.invokeExact(a.state, dirfd, a.str(name), mode));
    }

    /** A device node, FIFO or socket {@code name} in {@code dirfd}; {@code mode} is type and permissions. */
    public static void mknodat(int dirfd, String name, int mode, long dev) throws IOException {
        call("mknodat", name, a -> (int) MKNODAT.invokeExact(a.state, dirfd, a.str(name), mode, dev));
    }

    public static void unlinkat(int dirfd, String name, int flags) throws IOException {
        call("unlinkat", name, a -> (int) UNLINKAT.invokeExact(a.state, dirfd, a.str(name), flags));
    }

    public static void symlinkat(String target, int dirfd, String name) throws IOException {
        call("symlinkat", name, a -> (int) SYMLINKAT.invokeExact(a.state, a.str(target), dirfd, a.str(name)));
    }

    /** A hard link {@code name} in {@code newdirfd} to {@code oldpath}, e.g. {@code /proc/self/fd/N} with AT_SYMLINK_FOLLOW. */
    public static void linkat(int olddirfd, String oldpath, int newdirfd, String name, int flags) throws IOException {
        call("linkat", name, a ->
                (int) LINKAT.invokeExact(a.state, olddirfd, a.str(oldpath), newdirfd, a.str(name), flags));
    }

    public static void fchownat(int dirfd, String path, int uid, int gid, int flags) throws IOException {
        call("fchownat", path, a -> (int) FCHOWNAT.invokeExact(a.state, dirfd, a.str(path), uid, gid, flags));
    }

    public static void fchmodat(int dirfd, String path, int mode) throws IOException {
        call("fchmodat", path, a -> (int) FCHMODAT.invokeExact(a.state, dirfd, a.str(path), mode, 0));
    }

    /** Sets access and modification time to one instant. */
    public static void utimensat(int dirfd, String path, long seconds, int nanos, int flags) throws IOException {
        call("utimensat", path, a -> {
            MemorySegment times = a.arena.allocate(JAVA_LONG, 4); // struct timespec[2]
            times.setAtIndex(JAVA_LONG, 0, seconds);
            times.setAtIndex(JAVA_LONG, 1, nanos);
            times.setAtIndex(JAVA_LONG, 2, seconds);
            times.setAtIndex(JAVA_LONG, 3, nanos);
            return (int) UTIMENSAT.invokeExact(a.state, dirfd, a.str(path), times, flags);
        });
    }

    /** The target of a symlink; {@code path} "" with an O_PATH descriptor of the link itself. */
    public static String readlinkat(int dirfd, String path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            MemorySegment p = arena.allocateFrom(path);
            for (long size = 256; ; size *= 4) {
                MemorySegment buf = arena.allocate(size);
                long n = (long) READLINKAT.invokeExact(state, dirfd, p, buf, size);
                if (n < 0) {
                    throw Native.failure("readlinkat", path, Native.errno(state));
                }
                if (n < size) {
                    return new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Native.unexpected(t);
        }
    }

    /** statx(2); {@code flags} e.g. {@link #AT_EMPTY_PATH} | {@link #AT_SYMLINK_NOFOLLOW}. */
    public static FileStat statx(int dirfd, String path, int flags) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            MemorySegment buf = arena.allocate(256, 8); // struct statx
            int rc = (int) STATX.invokeExact(state, dirfd, arena.allocateFrom(path), flags, STATX_BASIC_STATS, buf);
            if (rc < 0) {
                throw Native.failure("statx", path, Native.errno(state));
            }
            return new FileStat(
                    Short.toUnsignedInt(buf.get(JAVA_SHORT, 28)),
                    buf.get(JAVA_INT, 20),
                    buf.get(JAVA_INT, 24),
                    buf.get(JAVA_LONG, 40),
                    buf.get(JAVA_INT, 16),
                    buf.get(JAVA_LONG, 32),
                    LinuxFiles.makedev(buf.get(JAVA_INT, 136), buf.get(JAVA_INT, 140)),
                    LinuxFiles.makedev(buf.get(JAVA_INT, 128), buf.get(JAVA_INT, 132)),
                    buf.get(JAVA_LONG, 112),
                    buf.get(JAVA_INT, 120));
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Native.unexpected(t);
        }
    }

    private interface Call {
        int invoke(Args a) throws Throwable;
    }

    private record Args(Arena arena, MemorySegment state) {
        MemorySegment str(String s) {
            return arena.allocateFrom(s);
        }
    }

    private static void call(String name, String path, Call call) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            int rc = call.invoke(new Args(arena, state));
            if (rc < 0) {
                throw Native.failure(name, path, Native.errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Native.unexpected(t);
        }
    }
}
