package dev.stagefarm.worker.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * An O_PATH file descriptor: a reference to a file that can be named as {@code /proc/self/fd/N}.
 * Mount options are limited to one page; naming many overlay lower directories this way keeps each
 * one at ~17 bytes however deep the worker's root directory is.
 */
public final class PathHandle implements AutoCloseable {

    private static final int O_PATH = 010000000; // same value on x86-64 and arm64
    private static final int O_CLOEXEC = 02000000;

    // open(2) is variadic: declare the mode argument as the first variadic one.
    private static final MethodHandle OPEN =
            Libc.downcall("open", Libc.fn(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = Libc.downcall("close", Libc.fn(JAVA_INT, JAVA_INT));

    private final int fd;
    private boolean closed;

    private PathHandle(int fd) {
        this.fd = fd;
    }

    /** Opens {@code path} (following symlinks) without reading it. */
    public static PathHandle open(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Libc.CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path.toString()), O_PATH | O_CLOEXEC, 0);
            if (fd < 0) {
                throw Libc.failure("open O_PATH", path.toString(), Libc.errno(state));
            }
            return new PathHandle(fd);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public int fd() {
        return fd;
    }

    /** The name of this file for system calls made by this process, e.g. {@code /proc/self/fd/42}. */
    public String procPath() {
        return "/proc/self/fd/" + fd;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(Libc.CALL_STATE), fd);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
