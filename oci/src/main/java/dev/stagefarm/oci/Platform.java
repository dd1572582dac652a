package dev.stagefarm.oci;

import java.util.Objects;

/** An OCI platform, e.g. {@code linux/amd64} or {@code linux/arm64/v8}; {@code variant} is "" when none. */
public record Platform(String os, String architecture, String variant) {

    public static final Platform LINUX_AMD64 = new Platform("linux", "amd64", "");

    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        variant = variant == null ? "" : variant;
    }

    /** Parses {@code os/arch[/variant]}. */
    public static Platform parse(String text) {
        String[] p = text.split("/", -1);
        if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
            throw new IllegalArgumentException(
                    "invalid platform '" + text + "': want os/arch[/variant], e.g. linux/amd64");
        }
        return new Platform(p[0], p[1], p.length == 3 ? p[2] : "");
    }

    /**
     * Whether an image built for {@code candidate} serves this platform. A wanted platform without a
     * variant takes any variant; arm64's only variant v8 is implied when absent.
     */
    public boolean accepts(Platform candidate) {
        if (!os.equals(candidate.os) || !architecture.equals(candidate.architecture)) {
            return false;
        }
        return variant.isEmpty() || normalVariant(variant).equals(normalVariant(candidate.variant));
    }

    private String normalVariant(String v) {
        return architecture.equals("arm64") && v.isEmpty() ? "v8" : v;
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
