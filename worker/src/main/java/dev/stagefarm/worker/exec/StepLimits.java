package dev.stagefarm.worker.exec;

import java.time.Duration;
import java.util.Locale;

/**
 * What one RUN may use on a worker. Every field has a worker flag ({@code --step-memory},
 * {@code --step-pids}, {@code --step-cpu-weight}, {@code --step-timeout}); 0 turns a limit off.
 *
 * @param memoryBytes the step's cgroup memory limit; the kernel kills the step (OOM) past it
 * @param pids how many processes and threads the step may have at once: stops a fork bomb
 * @param cpuWeight cgroup v2 cpu.weight (1..10000; 100 is the kernel's default); on cgroup v1 it
 *     becomes cpu.shares (100 = 1024). Under contention steps share the CPU in these proportions.
 * @param timeout a step running longer is killed
 * @param outputBytes output a step may send before the rest is dropped (BuildKit clips at 2 MiB)
 * @param tmpfsBytes size of a {@code RUN --mount=type=tmpfs} that gives none
 */
public record StepLimits(
        long memoryBytes, long pids, int cpuWeight, Duration timeout, long outputBytes, long tmpfsBytes) {

    public static final long MIB = 1024 * 1024;

    /**
     * 4 GiB fits a Go or Java build with parallel compilers and stops a runaway step before it takes
     * a node; 4096 pids is far above what {@code make -j} on a big machine uses and far below what
     * takes a kernel down; weight 100 shares the CPU equally; 2 h as before; 2 MiB as BuildKit;
     * 64 MiB as Docker's /dev/shm.
     */
    public static final StepLimits DEFAULTS =
            new StepLimits(4096 * MIB, 4096, 100, Duration.ofHours(2), 2 * MIB, 64 * MIB);

    public StepLimits {
        if (memoryBytes < 0 || pids < 0 || outputBytes < 0 || tmpfsBytes < 0) {
            throw new IllegalArgumentException("step limits must not be negative");
        }
        if (memoryBytes > 0 && memoryBytes < 6 * MIB) {
            throw new IllegalArgumentException(
                    "--step-memory " + memoryBytes + " is below 6 MiB, too little for runc to start a step");
        }
        if (cpuWeight < 1 || cpuWeight > 10000) {
            throw new IllegalArgumentException("--step-cpu-weight must be between 1 and 10000, not " + cpuWeight);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("--step-timeout must be positive, not " + timeout);
        }
    }

    public StepLimits withMemory(long bytes) {
        return new StepLimits(bytes, pids, cpuWeight, timeout, outputBytes, tmpfsBytes);
    }

    public StepLimits withPids(long n) {
        return new StepLimits(memoryBytes, n, cpuWeight, timeout, outputBytes, tmpfsBytes);
    }

    public StepLimits withCpuWeight(int weight) {
        return new StepLimits(memoryBytes, pids, weight, timeout, outputBytes, tmpfsBytes);
    }

    public StepLimits withTimeout(Duration t) {
        return new StepLimits(memoryBytes, pids, cpuWeight, t, outputBytes, tmpfsBytes);
    }

    public StepLimits withOutputBytes(long bytes) {
        return new StepLimits(memoryBytes, pids, cpuWeight, timeout, bytes, tmpfsBytes);
    }

    /** cgroup v1's cpu.shares for {@link #cpuWeight}: 100 maps to v1's default 1024. */
    long cpuShares() {
        return Math.max(2, cpuWeight * 1024L / 100);
    }

    /** "4g", "512m", "100k" or bytes, as docker run's --memory. */
    public static long parseBytes(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT).replaceFirst("i?b$|i$", "");
        long unit = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        switch (last) {
            case 'k' -> unit = 1024;
            case 'm' -> unit = MIB;
            case 'g' -> unit = 1024 * MIB;
            default -> {}
        }
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a size: write e.g. 4g, 512m, or 0 for none");
        }
    }
}
