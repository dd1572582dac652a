package dev.stagefarm.worker.linux;

import dev.stagefarm.common.linux.Native;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/** This package's short names for common's one native-call setup ({@link Native}). */
final class Libc {

    static final int ENOENT = Native.ENOENT;
    static final int EINVAL = Native.EINVAL;
    static final int EBUSY = Native.EBUSY;

    static final StructLayout CALL_STATE = Native.CALL_STATE;

    private Libc() {}

    /** A handle whose first parameter is the call-state segment that receives errno. */
    static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        return Native.downcall(name, descriptor, extra);
    }

    static FunctionDescriptor fn(MemoryLayout result, MemoryLayout... args) {
        return FunctionDescriptor.of(result, args);
    }

    static int errno(MemorySegment state) {
        return Native.errno(state);
    }

    /** The exception for a failed call: the kernel's own words, so "Device or resource busy" reaches the user. */
    static IOException failure(String call, String file, int errno) {
        return Native.failure(call, file, errno);
    }

    static AssertionError unexpected(Throwable t) {
        return Native.unexpected(t);
    }
}
