package dev.stagefarm.dockerfile;

import java.util.Map;
import java.util.Optional;

/**
 * BuildKit's automatic platform ARGs. This farm builds linux/amd64 on linux/amd64, so target and
 * build platform agree. They are global without a declaration (so {@code FROM tool-${TARGETARCH}}
 * works); a stage sees one once it declares {@code ARG NAME}. {@code --build-arg} may override them.
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

    public static Optional<String> value(String name) {
        return Optional.ofNullable(VALUES.get(name));
    }
}
