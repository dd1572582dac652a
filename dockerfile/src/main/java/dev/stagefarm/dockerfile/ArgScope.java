package dev.stagefarm.dockerfile;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedSet;
import java.util.function.Function;

/**
 * The ARGs a stage has declared so far, with BuildKit's rules: an {@code ARG NAME} takes the
 * {@code --build-arg} value, else its default (expanded where it stands), else the global value
 * (platform ARGs included); without any of them it is declared but unset and keeps a value it
 * already had. A stage built FROM an earlier stage starts with that stage's ARGs ({@link #copy}):
 * they reach its RUN environment and expansions without a re-declaration, never its image config.
 */
public final class ArgScope {

    private final Function<String, Optional<String>> buildArgs;
    private final Map<String, String> globals;
    private final Map<String, String> values;
    private final SequencedSet<String> declared;

    /**
     * @param buildArgs the build's {@code --build-arg} value of a name, if given
     * @param globals the values {@link GlobalArgs#resolve} gives
     */
    public ArgScope(Function<String, Optional<String>> buildArgs, Map<String, String> globals) {
        this(buildArgs, globals, new LinkedHashMap<>(), new LinkedHashSet<>());
    }

    private ArgScope(
            Function<String, Optional<String>> buildArgs,
            Map<String, String> globals,
            Map<String, String> values,
            SequencedSet<String> declared) {
        this.buildArgs = buildArgs;
        this.globals = globals;
        this.values = values;
        this.declared = declared;
    }

    /** An independent copy: what a stage built FROM this one starts with. */
    public ArgScope copy() {
        return new ArgScope(buildArgs, globals, new LinkedHashMap<>(values), new LinkedHashSet<>(declared));
    }

    /**
     * Declares one ARG.
     *
     * @param lookup what a default may expand (the stage's ENV and ARGs at this point)
     * @return the value it was given here; empty when it was declared without one
     */
    public Optional<String> declare(ArgDef def, Function<String, Optional<String>> lookup, char escape)
            throws InvalidValueException {
        Optional<String> value = buildArgs.apply(def.name());
        if (value.isEmpty() && def.defaultValue().isPresent()) {
            value = Optional.of(ShellWords.expand(def.defaultValue().get(), lookup, escape));
        }
        if (value.isEmpty()) {
            value = Optional.ofNullable(globals.get(def.name()));
        }
        value.ifPresent(v -> values.put(def.name(), v));
        declared.add(def.name());
        return value;
    }

    /** The value of a declared ARG, if it has one. */
    public Optional<String> value(String name) {
        return Optional.ofNullable(values.get(name));
    }

    /** Every declared ARG that has a value: what RUN sees in its environment. */
    public Map<String, String> values() {
        return Collections.unmodifiableMap(values);
    }

    /** The names declared, in order of first declaration (BuildKit's RUN history lists them so). */
    public SequencedSet<String> declared() {
        return Collections.unmodifiableSequencedSet(declared);
    }
}
