package dev.stagefarm.dockerfile;

import java.util.Optional;

/**
 * A Dockerfile that cannot be parsed or planned. The message names the file, the 1-based line
 * and, when there is one, the instruction, so the user can go straight to the mistake:
 * {@code Dockerfile:7: COPY: requires at least two arguments ...}.
 */
public final class DockerfileException extends Exception {

    private final String fileName;
    private final int line;
    private final String instruction;
    private final String detail;

    public DockerfileException(String fileName, int line, Optional<String> instruction, String detail) {
        this(fileName, line, instruction, detail, null);
    }

    public DockerfileException(
            String fileName, int line, Optional<String> instruction, String detail, Throwable cause) {
        super(format(fileName, line, instruction, detail), cause);
        this.fileName = fileName;
        this.line = line;
        this.instruction = instruction.orElse(null);
        this.detail = detail;
    }

    private static String format(String fileName, int line, Optional<String> instruction, String detail) {
        String where = line > 0 ? fileName + ":" + line + ": " : fileName + ": ";
        return where + instruction.map(i -> i + ": ").orElse("") + detail;
    }

    public String fileName() {
        return fileName;
    }

    /** 1-based line of the instruction (its first line when it spans several); 0 when about the whole file. */
    public int line() {
        return line;
    }

    /** The upper-cased instruction name, absent for errors that are not about one instruction. */
    public Optional<String> instruction() {
        return Optional.ofNullable(instruction);
    }

    /** The message without the location prefix. */
    public String detail() {
        return detail;
    }
}
