package dev.stagefarm.common.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tokens file that is read again when it changes, so that adding or revoking a token needs no
 * restart (a Kubernetes Secret update replaces the mounted file). The file's modification time is
 * checked at most once a second, on a call; a changed file that does not parse is logged and the
 * tokens in effect stay, so a typo never locks everybody out.
 */
public final class ReloadingTokens implements Supplier<Tokens> {

    private static final Logger log = LoggerFactory.getLogger(ReloadingTokens.class);
    private static final long CHECK_EVERY_MILLIS = 1_000;

    private final Path file;
    private final Clock clock;
    private volatile Tokens current;
    private volatile FileTime loadedAt;
    private volatile long checkedAt;

    private ReloadingTokens(Path file, Clock clock, Tokens first, FileTime loadedAt) {
        this.file = file;
        this.clock = clock;
        this.current = first;
        this.loadedAt = loadedAt;
        this.checkedAt = clock.millis();
    }

    /** Reads the file now: a server must not start with a tokens file it cannot use. */
    public static ReloadingTokens open(Path file, Clock clock) throws InvalidTokensException {
        FileTime modified = modified(file);
        Tokens tokens = TokensFile.read(file);
        log.info(
                "tokens file {}: {} tokens, anonymous callers {}, team policies {}",
                file,
                tokens.entries().size(),
                tokens.anonymous()
                        .map(c -> "in team " + c.team() + " with " + Scopes.names(c.scopes()))
                        .orElse("refused"),
                tokens.teams().isEmpty() ? "none (every team: weight 1, no limit on builds)" : tokens.teams());
        return new ReloadingTokens(file, clock, tokens, modified);
    }

    @Override
    public Tokens get() {
        long now = clock.millis();
        if (now - checkedAt >= CHECK_EVERY_MILLIS) {
            checkedAt = now;
            reloadIfChanged();
        }
        return current;
    }

    private synchronized void reloadIfChanged() {
        FileTime modified = modified(file);
        if (modified == null || modified.equals(loadedAt)) {
            return;
        }
        try {
            current = TokensFile.read(file);
            log.info(
                    "tokens file {} changed: now {} tokens",
                    file,
                    current.entries().size());
        } catch (InvalidTokensException e) {
            log.error("{}; the tokens read before stay in effect until the file is fixed", e.getMessage());
        }
        loadedAt = modified;
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return null;
        }
    }
}
