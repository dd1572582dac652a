package dev.stagefarm.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real tools (bin/stagefarm, umoci, docker, tar) as processes, output to a log file. */
final class Processes {

    /** A finished process: its exit code and everything it printed. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    private Processes() {}

    static Result run(List<String> cmd, Map<String, String> env, Path log, Duration timeout)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            return new Result(-1, Files.readString(log) + "\n[killed after " + timeout + "]");
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    /** Runs a command that must succeed; a failure fails the test with the command's output. */
    static String check(List<String> cmd, Map<String, String> env, Path log) throws IOException, InterruptedException {
        Result r = run(cmd, env, log, Duration.ofMinutes(10));
        if (!r.ok()) {
            throw new AssertionError(
                    String.join(" ", cmd) + " failed (exit " + r.exitCode() + "):\n" + tail(r.output()));
        }
        return r.output();
    }

    static Path which(String tool) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/sbin:/usr/bin").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    static Path require(String tool) {
        Path p = which(tool);
        if (p == null) {
            throw new AssertionError(tool + " is not installed: run deploy/dev/host-deps.sh");
        }
        return p;
    }

    /** The last 60 lines: enough to see a failing step without drowning the report. */
    static String tail(String output) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }
}
