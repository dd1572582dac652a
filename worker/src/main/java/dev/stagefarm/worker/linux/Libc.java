package dev.stagefarm.worker.linux;

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
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** Downcall plumbing shared by this package: libc handles that capture errno, and errno → IOException. */
@SuppressWarnings("restricted") // the module is run with --enable-native-access; these calls are the point of it
final class Libc {

    static final int ENOENT = 2;
    static final int EINVAL = 22;
    static final int EBUSY = 16;

    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();

    private static final Linker LINKER = Linker.nativeLinker();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Libc() {}

    /** A handle whose first parameter is the call-state segment that receives errno. */
    static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), descriptor, options);
    }

    static FunctionDescriptor fn(MemoryLayout result, MemoryLayout... args) {
        return FunctionDescriptor.of(result, args);
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** The exception for a failed call: the kernel's own words, so "Device or resource busy" reaches the user. */
    static IOException failure(String call, String file, int errno) {
        String reason = call + ": " + strerror(errno) + " (errno " + errno + ")";
        return errno == ENOENT
                ? new NoSuchFileException(file, null, reason)
                : new FileSystemException(file, null, reason);
    }

    static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** invokeExact declares Throwable; only the checked IOException is expected from our own code. */
    static AssertionError unexpected(Throwable t) {
        return new AssertionError("native call failed unexpectedly", t);
    }
}
