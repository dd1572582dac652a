package dev.stagefarm.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One case: a directory holding a Dockerfile, its context files and {@code expect.json}, which
 * says how to build it and what the result must hold (see conformance/README.md for the format).
 */
record ConformanceCase(String name, Path dir, JsonNode spec) {

    static final ObjectMapper JSON = new ObjectMapper();

    private static final Set<String> KEYS = Set.of(
            "about",
            "differential",
            "dockerfile",
            "target",
            "build-args",
            "context",
            "fails",
            "files",
            "dirs",
            "config",
            "env",
            "history",
            "created",
            "known-differences");
    static final Set<String> FILE_KEYS = Set.of(
            "absent",
            "type",
            "content",
            "sha256",
            "size",
            "mode",
            "uid",
            "gid",
            "target",
            "hardlink",
            "children",
            "mtime");
    private static final Set<String> CONTEXT_KEYS = Set.of("mode", "symlink", "hardlink", "mkdir", "write");

    /** Every case directory below {@code root} (cases/ or pending/), sorted by name. */
    static List<ConformanceCase> all(Path root) {
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(Files::isDirectory)
                    .sorted()
                    .map(ConformanceCase::load)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ConformanceCase load(Path dir) {
        Path file = dir.resolve("expect.json");
        JsonNode spec;
        try {
            spec = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not readable JSON: " + e.getMessage(), e);
        }
        ConformanceCase c = new ConformanceCase(dir.getFileName().toString(), dir, spec);
        c.validate();
        return c;
    }

    /** Typos in a case file would silently check nothing: unknown keys are mistakes. */
    private void validate() {
        unknown(spec, KEYS, "");
        spec.path("files").properties().forEach(e -> {
            if (!e.getKey().startsWith("/")) {
                throw invalid("files: \"" + e.getKey() + "\" must be an absolute path");
            }
            unknown(e.getValue(), FILE_KEYS, "files." + e.getKey() + ".");
        });
        unknown(spec.path("context"), CONTEXT_KEYS, "context.");
        unknown(spec.path("fails"), Set.of("message", "line"), "fails.");
        for (JsonNode h : spec.path("history")) {
            unknown(h, Set.of("created_by", "empty_layer", "created"), "history[].");
        }
        if (!Files.isRegularFile(dir.resolve(dockerfile()))) {
            throw invalid("no " + dockerfile() + " in " + dir);
        }
        boolean checksSomething = spec.has("fails")
                || spec.has("files")
                || spec.has("dirs")
                || spec.has("config")
                || spec.has("env")
                || spec.has("history")
                || spec.has("created");
        if (!checksSomething) {
            throw invalid("checks nothing: add files, dirs, config, env, history, created or fails");
        }
    }

    private void unknown(JsonNode node, Set<String> allowed, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!allowed.contains(key)) {
                throw invalid("unknown key \"" + prefix + key + "\" (known: " + allowed + ")");
            }
        }
    }

    private IllegalArgumentException invalid(String detail) {
        return new IllegalArgumentException(name + "/expect.json: " + detail);
    }

    String about() {
        return spec.path("about").asText("");
    }

    boolean differential() {
        return spec.path("differential").asBoolean(false);
    }

    String dockerfile() {
        return spec.path("dockerfile").asText("Dockerfile");
    }

    Optional<String> target() {
        return spec.has("target") ? Optional.of(spec.get("target").asText()) : Optional.empty();
    }

    Map<String, String> buildArgs() {
        Map<String, String> args = new LinkedHashMap<>();
        spec.path("build-args")
                .properties()
                .forEach(e -> args.put(e.getKey(), e.getValue().asText()));
        return args;
    }

    /**
     * Regexes for mismatches this case is known to show (each listed in README.md's "Known
     * differences"): matching lines do not fail the case, and a regex that matches nothing fails it,
     * so a fixed bug cannot leave a stale entry behind.
     */
    List<Pattern> knownDifferences() {
        List<Pattern> known = new ArrayList<>();
        spec.path("known-differences").forEach(n -> known.add(Pattern.compile(n.asText())));
        return known;
    }

    boolean expectsFailure() {
        return spec.has("fails");
    }

    @Override
    public String toString() {
        return name;
    }
}
