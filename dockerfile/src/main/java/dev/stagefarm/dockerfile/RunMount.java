package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One {@code RUN --mount=...} specification: comma-separated {@code key=value} fields
 * (CSV quoting allowed). {@code options} keeps every field in order, keys lower-cased, so the
 * executor can read type-specific ones ({@code sharing}, {@code mode}, {@code uid}, {@code size},
 * {@code required}, {@code env}, ...).
 *
 * @param type bind (the default), cache, tmpfs, secret or ssh
 * @param target {@code target}/{@code dst}/{@code destination}
 * @param source {@code source}/{@code src}
 * @param from a stage name or index, or an image, for bind and cache mounts
 * @param readOnly bind, secret and ssh mounts are read-only unless {@code rw} is given
 * @param raw the flag value as written
 */
public record RunMount(
        String type,
        Optional<String> target,
        Optional<String> id,
        Optional<String> source,
        Optional<String> from,
        boolean readOnly,
        List<KeyValue> options,
        String raw) {

    private static final Set<String> TYPES = Set.of("bind", "cache", "tmpfs", "secret", "ssh");
    private static final Set<String> KEYS = Set.of(
            "type",
            "from",
            "source",
            "src",
            "target",
            "dst",
            "destination",
            "readonly",
            "ro",
            "rw",
            "readwrite",
            "id",
            "sharing",
            "mode",
            "uid",
            "gid",
            "required",
            "size",
            "env");
    private static final Set<String> FLAG_KEYS = Set.of("readonly", "ro", "rw", "readwrite", "required");

    public RunMount {
        Objects.requireNonNull(type, "type");
        options = List.copyOf(options);
    }

    /** The value of a field, if given. */
    public Optional<String> option(String key) {
        return options.stream()
                .filter(kv -> kv.key().equals(key))
                .map(KeyValue::value)
                .reduce((a, b) -> b);
    }

    /**
     * Parses a mount specification. Values containing {@code $} are not validated, as they are
     * expanded later; the planner parses the expanded text again.
     */
    public static RunMount parse(String raw) throws InvalidValueException {
        List<KeyValue> options = new ArrayList<>();
        for (String field : csvFields(raw)) {
            int eq = field.indexOf('=');
            String key = (eq < 0 ? field : field.substring(0, eq)).strip().toLowerCase(Locale.ROOT);
            String value = eq < 0 ? "" : field.substring(eq + 1);
            if (!KEYS.contains(key)) {
                throw new InvalidValueException("unexpected key '" + key + "' in --mount=" + raw);
            }
            if (eq < 0 && !FLAG_KEYS.contains(key)) {
                throw new InvalidValueException(
                        "--mount field '" + key + "' needs a value (" + key + "=...) in --mount=" + raw);
            }
            options.add(new KeyValue(key, eq < 0 ? "true" : value));
        }
        String type = last(options, "type").orElse("bind").toLowerCase(Locale.ROOT);
        if (!type.contains("$") && !TYPES.contains(type)) {
            throw new InvalidValueException(
                    "unsupported mount type \"" + type + "\" (use bind, cache, tmpfs, secret or ssh)");
        }
        Optional<String> target = last(options, "target", "dst", "destination");
        if (target.isEmpty() && (type.equals("bind") || type.equals("cache") || type.equals("tmpfs"))) {
            throw new InvalidValueException(
                    "--mount type=" + type + " needs a target (target=/path) in --mount=" + raw);
        }
        boolean readOnly = !type.equals("cache") && !type.equals("tmpfs");
        for (KeyValue kv : options) {
            switch (kv.key()) {
                case "readonly", "ro" -> readOnly = bool(kv, raw);
                case "rw", "readwrite" -> readOnly = !bool(kv, raw);
                case "sharing" -> {
                    if (!kv.value().contains("$")
                            && !Set.of("shared", "private", "locked").contains(kv.value())) {
                        throw new InvalidValueException(
                                "unsupported sharing value \"" + kv.value() + "\" (use shared, private or locked)");
                    }
                }
                default -> {}
            }
        }
        return new RunMount(
                type,
                target,
                last(options, "id"),
                last(options, "source", "src"),
                last(options, "from"),
                readOnly,
                options,
                raw);
    }

    private static boolean bool(KeyValue kv, String raw) throws InvalidValueException {
        return switch (kv.value().toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default ->
                throw new InvalidValueException(
                        "invalid value for " + kv.key() + ": \"" + kv.value() + "\" in --mount=" + raw);
        };
    }

    private static Optional<String> last(List<KeyValue> options, String... keys) {
        Optional<String> found = Optional.empty();
        for (KeyValue kv : options) {
            for (String key : keys) {
                if (kv.key().equals(key)) found = Optional.of(kv.value());
            }
        }
        return found;
    }

    /** Splits one CSV record: a field that starts with {@code "} runs to the closing quote; {@code ""} is a quote. */
    private static List<String> csvFields(String raw) throws InvalidValueException {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        while (i <= raw.length()) {
            if (i < raw.length() && raw.charAt(i) == '"' && field.isEmpty()) {
                i++;
                while (true) {
                    if (i >= raw.length()) {
                        throw new InvalidValueException("unterminated quote in --mount=" + raw);
                    }
                    char c = raw.charAt(i++);
                    if (c == '"') {
                        if (i < raw.length() && raw.charAt(i) == '"') {
                            field.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        field.append(c);
                    }
                }
                continue;
            }
            if (i == raw.length() || raw.charAt(i) == ',') {
                if (!field.isEmpty()) {
                    fields.add(field.toString());
                }
                field.setLength(0);
                i++;
                continue;
            }
            field.append(raw.charAt(i++));
        }
        return fields;
    }
}
