package dev.stagefarm.oci;

import dev.stagefarm.common.Digest;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A parsed image reference, normalized the way Docker does it: {@code golang:latest} is
 * {@code docker.io/library/golang:latest}. {@code tag} and {@code digest} may each be null, but not
 * both: a reference without either gets the tag {@code latest}.
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {

    public static final String DOCKER_HUB = "docker.io";
    public static final String DEFAULT_TAG = "latest";

    private static final Pattern DOMAIN = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?");
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");

    public ImageReference {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(repository, "repository");
        if (tag == null && digest == null) {
            throw new IllegalArgumentException(
                    "image reference needs a tag or a digest: " + registry + "/" + repository);
        }
        if (!DOMAIN.matcher(registry).matches()) {
            throw new IllegalArgumentException("invalid registry host '" + registry + "'");
        }
        for (String c : repository.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches()) {
                throw new IllegalArgumentException("invalid repository name '" + repository
                        + "': use lowercase letters, digits and separators (. _ __ -) between '/'");
            }
        }
        if (tag != null && !TAG.matcher(tag).matches()) {
            throw new IllegalArgumentException(
                    "invalid tag '" + tag + "': up to 128 of [A-Za-z0-9_.-], not starting with . or -");
        }
    }

    /**
     * Parses {@code [registry/]repository[:tag][@sha256:hex]}.
     *
     * @throws IllegalArgumentException with the reason when {@code text} is not a reference
     */
    public static ImageReference parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty image reference");
        }
        try {
            return doParse(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid image reference '" + text + "': " + e.getMessage(), e);
        }
    }

    private static ImageReference doParse(String text) {
        String rest = text;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = Digest.parse(rest.substring(at + 1));
            rest = rest.substring(0, at);
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        String registry = DOCKER_HUB;
        String repository = rest;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".")
                    || first.contains(":")
                    || first.equals("localhost")
                    || !first.equals(first.toLowerCase())) {
                registry = first;
                repository = rest.substring(slash + 1);
            }
        }
        if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) {
            registry = DOCKER_HUB;
        }
        if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
            repository = "library/" + repository;
        }
        if (tag == null && digest == null) {
            tag = DEFAULT_TAG;
        }
        return new ImageReference(registry, repository, tag, digest);
    }

    /** The same image pinned to {@code digest} (the tag is kept for display). */
    public ImageReference withDigest(Digest d) {
        return new ImageReference(registry, repository, tag, d);
    }

    public ImageReference withTag(String t) {
        return new ImageReference(registry, repository, t, digest);
    }

    /** What to ask the registry's manifests endpoint for: the digest when pinned, else the tag. */
    public String manifestReference() {
        return digest != null ? digest.toString() : tag;
    }

    /** Canonical form: {@code docker.io/library/golang:latest[@sha256:…]}. */
    @Override
    public String toString() {
        return registry + "/" + repository + suffix();
    }

    /** The short form people type: {@code golang:latest}. */
    public String toFamiliarString() {
        String repo = repository;
        if (registry.equals(DOCKER_HUB)) {
            if (repo.startsWith("library/") && repo.indexOf('/', 8) < 0) {
                repo = repo.substring(8);
            }
            return repo + suffix();
        }
        return toString();
    }

    private String suffix() {
        return (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
