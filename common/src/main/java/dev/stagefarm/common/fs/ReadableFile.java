package dev.stagefarm.common.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Files an option names (certificates, keys, tokens) checked before use, with the option in the error. */
public final class ReadableFile {

    private ReadableFile() {}

    /** {@code file}, or an error naming {@code option} when it does not exist or cannot be read. */
    public static Path require(Path file, String option) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException(option + " " + file + " does not exist or cannot be read");
        }
        return file;
    }
}
