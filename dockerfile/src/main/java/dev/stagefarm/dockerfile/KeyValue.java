package dev.stagefarm.dockerfile;

import java.util.Objects;

/** One {@code key=value} of ENV or LABEL, both unexpanded (quotes still in place). */
public record KeyValue(String key, String value) {

    public KeyValue {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }
}
