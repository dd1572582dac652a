package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.InvalidValueException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The build's SOURCE_DATE_EPOCH, taken where BuildKit takes it: the build arg, else the default of
 * a global ARG of that name. With one, this build's history and image are dated with it and the
 * mtimes of new layers are clamped to it (BuildKit's exporter with {@code rewrite-timestamp}).
 */
final class SourceDateEpoch {

    static final String NAME = "SOURCE_DATE_EPOCH";

    private SourceDateEpoch() {}

    static Optional<Instant> of(Optional<String> buildArg, Map<String, String> globalArgs)
            throws InvalidValueException {
        Optional<String> raw =
                buildArg.or(() -> Optional.ofNullable(globalArgs.get(NAME))).filter(v -> !v.isEmpty());
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.ofEpochSecond(Long.parseLong(raw.get().trim())));
        } catch (NumberFormatException | DateTimeException e) {
            throw new InvalidValueException("invalid " + NAME + " \"" + raw.get()
                    + "\": expected whole seconds since 1970-01-01 UTC, e.g. $(git log -1 --pretty=%ct)");
        }
    }
}
