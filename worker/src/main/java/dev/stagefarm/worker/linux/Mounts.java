package dev.stagefarm.worker.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * mount(2) and umount2(2) through the foreign-function API. Failures are {@link IOException}s whose
 * message carries strerror, e.g. {@code mount overlay: Invalid argument (errno 22)}.
 *
 * <p>The JVM needs {@code --enable-native-access=ALL-UNNAMED}; the calls need CAP_SYS_ADMIN.
 */
public final class Mounts {

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final long MS_REMOUNT = 32;
    public static final long MS_BIND = 4096;
    public static final long MS_REC = 16384;
    public static final long MS_PRIVATE = 1L << 18;

    private static final int MNT_DETACH = 2;

    private static final MethodHandle MOUNT =
            Libc.downcall("mount", Libc.fn(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle UMOUNT2 = Libc.downcall("umount2", Libc.fn(JAVA_INT, ADDRESS, JAVA_INT));

    private Mounts() {}

    /**
     * Calls mount(2). {@code source}, {@code fsType} and {@code data} may be null (e.g. for a bind
     * mount). {@code data} is limited by the kernel to one page.
     */
    public static void mount(String source, Path target, String fsType, long flags, String data) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            int rc = (int) MOUNT.invokeExact(
                    state,
                    cString(arena, source),
                    arena.allocateFrom(target.toString()),
                    cString(arena, fsType),
                    flags,
                    cString(arena, data));
            if (rc != 0) {
                throw Libc.failure("mount " + (fsType != null ? fsType : source), target.toString(), Libc.errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Unmounts now; fails with "Device or resource busy" while anything still uses the mount. */
    public static void unmount(Path target) throws IOException {
        umount2(target, 0);
    }

    /** Detaches the mount from the tree at once; the kernel frees it when the last user lets go. */
    public static void unmountDetached(Path target) throws IOException {
        umount2(target, MNT_DETACH);
    }

    private static void umount2(Path target, int flags) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            int rc = (int) UMOUNT2.invokeExact(state, arena.allocateFrom(target.toString()), flags);
            if (rc != 0) {
                throw Libc.failure("umount2", target.toString(), Libc.errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    private static MemorySegment cString(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
    }
}
