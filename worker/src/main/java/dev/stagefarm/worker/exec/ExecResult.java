package dev.stagefarm.worker.exec;

import java.util.List;

/**
 * How a process ended.
 *
 * @param exitCode the process's exit status; 128+n when killed by signal n
 * @param outputTail the last lines of its combined stdout and stderr, for error messages
 */
public record ExecResult(int exitCode, List<String> outputTail) {

    public ExecResult {
        outputTail = List.copyOf(outputTail);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }
}
