package dev.stagefarm.dockerfile;

import java.util.Objects;
import java.util.Optional;

/** One name of an ARG instruction with its unexpanded default, if any. */
public record ArgDef(String name, Optional<String> defaultValue) {

    public ArgDef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(defaultValue, "defaultValue");
    }
}
