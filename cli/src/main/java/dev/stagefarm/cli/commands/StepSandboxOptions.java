package dev.stagefarm.cli.commands;

import dev.stagefarm.worker.exec.StepLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Option;

/** A worker's runc binary and the limits every RUN step gets (see SECURITY.md for why these defaults). */
public final class StepSandboxOptions {

    @Option(
            names = "--runc",
            paramLabel = "PATH",
            description = "The runc binary (default: runc on PATH). Refused without the CVE-2024-21626 fix.")
    Path runc;

    @Option(
            names = "--step-memory",
            paramLabel = "SIZE",
            defaultValue = "4g",
            description =
                    "Memory limit of each RUN step's cgroup, e.g. 4g, 512m; 0 for none (default: ${DEFAULT-VALUE}).")
    String memory;

    @Option(
            names = "--step-pids",
            paramLabel = "N",
            defaultValue = "4096",
            description =
                    "Processes and threads one RUN step may have at once; 0 for no limit (default: ${DEFAULT-VALUE}).")
    long pids;

    @Option(
            names = "--step-cpu-weight",
            paramLabel = "1..10000",
            defaultValue = "100",
            description = "CPU weight of each RUN step under contention (cgroup v2 cpu.weight;"
                    + " cpu.shares x1024/100 on v1) (default: ${DEFAULT-VALUE}).")
    int cpuWeight;

    @Option(
            names = "--step-timeout",
            paramLabel = "DURATION",
            defaultValue = "2h",
            description = "A RUN step running longer is killed, e.g. 90s, 30m, 2h (default: ${DEFAULT-VALUE}).")
    String timeout;

    public Path runc() {
        return runc;
    }

    public StepLimits limits() {
        long memoryBytes;
        try {
            memoryBytes = StepLimits.parseBytes(memory);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--step-memory " + e.getMessage(), e);
        }
        return StepLimits.DEFAULTS
                .withMemory(memoryBytes)
                .withPids(pids)
                .withCpuWeight(cpuWeight)
                .withTimeout(duration(timeout));
    }

    static Duration duration(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "--step-timeout \"" + text + "\" is not a duration: write e.g. 90s, 30m or 2h");
        }
    }
}
