package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open-files limit containers get: 1048576 as in BuildKit, unless this worker may not grant
 * it. runc sets the limit from the host side, where raising a hard limit past our own needs
 * CAP_SYS_RESOURCE (absent in some sandboxes and pods) and never goes past fs.nr_open.
 */
final class HostLimits {

    private static final Logger log = LoggerFactory.getLogger(HostLimits.class);
    static final long WANTED_NOFILE = 1 << 20;
    private static final int CAP_SYS_RESOURCE = 24;

    private static volatile Long nofile;

    private HostLimits() {}

    static long nofile() {
        Long n = nofile;
        if (n == null) {
            n = compute();
            nofile = n;
            if (n < WANTED_NOFILE) {
                log.info(
                        "containers get RLIMIT_NOFILE {} (not {}): the worker may not raise it further",
                        n,
                        WANTED_NOFILE);
            }
        }
        return n;
    }

    private static long compute() {
        try {
            // readAllLines, not readString: a sysctl file read one byte first reports EOF after that byte
            long ceiling = Long.parseLong(Files.readAllLines(Path.of("/proc/sys/fs/nr_open"))
                    .getFirst()
                    .strip());
            if (!hasCapability(Files.readAllLines(Path.of("/proc/self/status")), CAP_SYS_RESOURCE)) {
                ceiling = Math.min(ceiling, hardNofile(Files.readAllLines(Path.of("/proc/self/limits"))));
            }
            return Math.min(WANTED_NOFILE, ceiling);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the host's limits ({}); asking for RLIMIT_NOFILE {}", e.toString(), WANTED_NOFILE);
            return WANTED_NOFILE;
        }
    }

    /** The hard "Max open files" of a /proc/PID/limits text. */
    static long hardNofile(List<String> limits) {
        for (String line : limits) {
            if (line.startsWith("Max open files")) {
                String[] f = line.substring("Max open files".length()).strip().split("\\s+");
                return f[1].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[1]);
            }
        }
        throw new IllegalArgumentException("no 'Max open files' line");
    }

    /** Whether the CapEff mask of a /proc/PID/status text has capability {@code cap}. */
    static boolean hasCapability(List<String> status, int cap) {
        for (String line : status) {
            if (line.startsWith("CapEff:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << cap)) != 0;
            }
        }
        return false;
    }
}
