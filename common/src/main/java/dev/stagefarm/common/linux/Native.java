package dev.stagefarm.common.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * The one place that sets up native calls: libc handles that capture errno, and errno turned into
 * an {@link IOException} carrying the kernel's own words ("Operation not permitted" reaches the user
 * unchanged). Callers need {@code --enable-native-access=ALL-UNNAMED} on the JVM.
 */
@SuppressWarnings("restricted") // native access is the point of this class
public final class Native {

    public static final int ENOENT = 2;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int ERANGE = 34;
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EXDEV = 18;

    /** Segment layout receiving errno; allocate one per call and pass it first. */
    public static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();

    private static final Linker LINKER = Linker.nativeLinker();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Native() {}

    /** A libc function whose handle takes the call-state segment (errno) as its first argument. */
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), descriptor, options);
    }

    public static MethodHandle downcall(String name, MemoryLayout result, MemoryLayout... args) {
        return downcall(name, FunctionDescriptor.of(result, args));
    }

    public static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** The exception for a failed call on {@code file}: NoSuchFile / FileAlreadyExists where they fit. */
    public static IOException failure(String call, String file, int errno) {
        String reason = call + ": " + strerror(errno) + " (errno " + errno + ")";
        return switch (errno) {
            case ENOENT -> new NoSuchFileException(file, null, reason);
            case EEXIST -> new FileAlreadyExistsException(file, null, reason);
            default -> new ErrnoException(file, reason, errno);
        };
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** invokeExact declares Throwable; only our own checked IOException is expected. */
    public static AssertionError unexpected(Throwable t) {
        return new AssertionError("native call failed unexpectedly", t);
    }

    /** A failed call whose errno callers may branch on (ELOOP, ENOTDIR, …). */
    public static final class ErrnoException extends FileSystemException {
        private final int errno;

        ErrnoException(String file, String reason, int errno) {
            super(file, null, reason);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }
}
