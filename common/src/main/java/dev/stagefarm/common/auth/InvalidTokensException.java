package dev.stagefarm.common.auth;

import java.nio.file.Path;

/** A tokens file that cannot be used, with the reason and what to write instead. */
public final class InvalidTokensException extends Exception {

    public InvalidTokensException(Path file, String problem) {
        super("tokens file " + file + ": " + problem);
    }
}
