package dev.stagefarm.dockerfile;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed Dockerfile: the ARGs declared before the first FROM, the build stages in file order
 * and the parser directives ({@code syntax}, {@code escape}, {@code check}) found at the top.
 */
public record Dockerfile(
        List<Instruction.Arg> globalArgs, List<Stage> stages, Map<String, String> directives, String fileName) {

    public Dockerfile {
        globalArgs = List.copyOf(globalArgs);
        stages = List.copyOf(stages);
        directives = Map.copyOf(directives);
    }

    /** The stage with this name, compared case-insensitively as BuildKit does. */
    public Optional<Stage> stage(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return stages.stream()
                .filter(s -> s.name().filter(wanted::equals).isPresent())
                .findFirst();
    }

    /** The escape character in effect ({@code \} unless an {@code escape} directive says otherwise). */
    public char escape() {
        String value = directives.get("escape");
        return value == null ? '\\' : value.charAt(0);
    }
}
