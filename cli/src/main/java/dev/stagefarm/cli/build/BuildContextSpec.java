package dev.stagefarm.cli.build;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code --build-context NAME=VALUE}, as buildx takes it: VALUE is a local directory or
 * {@code docker-image://REF}. The name then stands for that context wherever the Dockerfile names
 * a stage or an image: {@code FROM NAME}, {@code COPY --from=NAME}.
 */
public record BuildContextSpec(String name, Optional<Path> directory, Optional<String> image) {

    private static final String IMAGE = "docker-image://";

    public static BuildContextSpec parse(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0 || eq == text.length() - 1) {
            throw new IllegalArgumentException(
                    "--build-context " + text + ": expected NAME=PATH or NAME=docker-image://REF");
        }
        String name = text.substring(0, eq).strip();
        String value = text.substring(eq + 1).strip();
        if (!name.matches("[a-zA-Z0-9][a-zA-Z0-9._/:@-]*")) {
            throw new IllegalArgumentException("--build-context " + text + ": \"" + name
                    + "\" is not a name a Dockerfile can use in FROM or COPY --from");
        }
        if (value.startsWith(IMAGE)) {
            String ref = value.substring(IMAGE.length());
            if (ref.isBlank()) {
                throw new IllegalArgumentException(
                        "--build-context " + text + ": docker-image:// needs an image reference");
            }
            return new BuildContextSpec(name, Optional.empty(), Optional.of(ref));
        }
        int scheme = value.indexOf("://");
        if (scheme > 0) {
            throw new IllegalArgumentException("--build-context " + text + ": " + value.substring(0, scheme)
                    + ":// contexts are not supported; give a directory or docker-image://REF");
        }
        return new BuildContextSpec(name, Optional.of(Path.of(value)), Optional.empty());
    }

    /** Every flag; a name given twice is an error (buildx keeps the last, silently). */
    public static List<BuildContextSpec> parseAll(List<String> flags) {
        Map<String, BuildContextSpec> byName = new LinkedHashMap<>();
        for (String f : flags) {
            BuildContextSpec spec = parse(f);
            if (byName.put(spec.name(), spec) != null) {
                throw new IllegalArgumentException(
                        "--build-context " + spec.name() + " is given twice; give each name once");
            }
        }
        return new ArrayList<>(byName.values());
    }
}
