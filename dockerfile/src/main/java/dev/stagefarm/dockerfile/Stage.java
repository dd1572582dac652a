package dev.stagefarm.dockerfile;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One build stage: a FROM and the instructions after it, up to the next FROM.
 *
 * @param index position among the stages, from 0
 * @param name the {@code AS} name, lower-cased
 * @param baseImage the FROM image or stage name, unexpanded
 * @param platform the {@code --platform} value, unexpanded
 * @param line 1-based line of the FROM
 * @param instructions what follows FROM, in order (FROM itself is not included)
 * @param original the FROM line text
 */
public record Stage(
        int index,
        Optional<String> name,
        String baseImage,
        Optional<String> platform,
        int line,
        List<Instruction> instructions,
        String original) {

    public Stage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(baseImage, "baseImage");
        Objects.requireNonNull(platform, "platform");
        instructions = List.copyOf(instructions);
    }

    /** How progress and error messages refer to the stage: its name, or {@code stage-N} as BuildKit says. */
    public String displayName() {
        return name.orElse("stage-" + index);
    }
}
