package dev.stagefarm.dockerfile;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The global ARG values in effect for a build: the automatic platform ARGs, then the ARGs declared
 * before the first FROM, in order (each default may use the ones before it); {@code --build-arg}
 * overrides both. A declared ARG without a default or a build arg is absent. FROM lines expand
 * with these, and an {@code ARG NAME} inside a stage takes its value from here.
 */
public final class GlobalArgs {

    private GlobalArgs() {}

    public static Map<String, String> resolve(Dockerfile dockerfile, Map<String, String> buildArgs)
            throws DockerfileException {
        Map<String, String> values = new LinkedHashMap<>(PlatformArgs.VALUES);
        buildArgs.forEach((name, value) -> {
            if (PlatformArgs.VALUES.containsKey(name)) {
                values.put(name, value);
            }
        });
        for (Instruction.Arg arg : dockerfile.globalArgs()) {
            for (ArgDef def : arg.args()) {
                String given = buildArgs.get(def.name());
                if (given != null) {
                    values.put(def.name(), given);
                } else if (def.defaultValue().isPresent()) {
                    try {
                        values.put(
                                def.name(),
                                ShellWords.expand(
                                        def.defaultValue().get(),
                                        name -> Optional.ofNullable(values.get(name)),
                                        dockerfile.escape()));
                    } catch (InvalidValueException e) {
                        throw new DockerfileException(
                                dockerfile.fileName(), arg.line(), Optional.of("ARG"), e.getMessage());
                    }
                }
            }
        }
        return Collections.unmodifiableMap(values);
    }
}
