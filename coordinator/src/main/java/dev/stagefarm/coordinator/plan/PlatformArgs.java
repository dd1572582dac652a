package dev.stagefarm.coordinator.plan;

import java.util.Map;
import java.util.Optional;

/**
 * BuildKit's predefined platform ARGs. This farm builds linux/amd64 on linux/amd64, so target and
 * build platform agree. They are global (FROM sees them without a declaration); a stage sees one
 * once it declares {@code ARG NAME}.
 */
public final class PlatformArgs {

    public static final Map<String, String> VALUES = Map.of(
            "TARGETPLATFORM",
            "linux/amd64",
            "TARGETOS",
            "linux",
            "TARGETARCH",
            "amd64",
            "TARGETVARIANT",
            "",
            "BUILDPLATFORM",
            "linux/amd64",
            "BUILDOS",
            "linux",
            "BUILDARCH",
            "amd64",
            "BUILDVARIANT",
            "");

    private PlatformArgs() {}

    static Optional<String> value(String name) {
        return Optional.ofNullable(VALUES.get(name));
    }
}
