package dev.stagefarm.common.auth;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Scope names as users write them: {@code read}, {@code write}, {@code admin}, {@code farm}. */
public final class Scopes {

    private Scopes() {}

    public static Optional<Caller.Scope> parse(String name) {
        return Arrays.stream(Caller.Scope.values())
                .filter(s -> s.name().equals(name.trim().toUpperCase(Locale.ROOT)))
                .findFirst();
    }

    /** Parses {@code read,write}; the message of a failure lists the known scopes. */
    public static Set<Caller.Scope> parseList(String list) {
        Set<Caller.Scope> scopes = EnumSet.noneOf(Caller.Scope.class);
        for (String name : list.split(",")) {
            scopes.add(parse(name)
                    .orElseThrow(() -> new IllegalArgumentException(
                            "unknown scope '" + name.trim() + "'; scopes are read, write, admin, farm")));
        }
        return scopes;
    }

    public static String names(Set<Caller.Scope> scopes) {
        return scopes.stream()
                .sorted()
                .map(s -> s.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(","));
    }
}
