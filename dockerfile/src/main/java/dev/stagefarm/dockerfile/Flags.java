package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code --name=value} flags at the start of an instruction's arguments. Each instruction
 * declares what it accepts; anything else is an error that lists the accepted flags.
 */
final class Flags {

    enum Kind {
        STRING,
        BOOL,
        REPEATED
    }

    /** Thrown for a flag problem; the caller adds the location. */
    static final class FlagException extends Exception {
        FlagException(String message) {
            super(message);
        }
    }

    private final Map<String, List<String>> values;
    private final String rest;

    private Flags(Map<String, List<String>> values, String rest) {
        this.values = values;
        this.rest = rest;
    }

    /**
     * Takes the leading words that start with {@code --} (quote-aware, quotes kept) as flags;
     * a lone {@code --} ends the flags.
     */
    static Flags parse(String args, char escape, Map<String, Kind> accepted) throws FlagException {
        Map<String, List<String>> values = new LinkedHashMap<>();
        int pos = 0;
        while (true) {
            while (pos < args.length() && Character.isWhitespace(args.charAt(pos))) pos++;
            if (!args.startsWith("--", pos)) {
                break;
            }
            int end = wordEnd(args, pos, escape);
            String word = args.substring(pos, end);
            pos = end;
            if (word.equals("--")) {
                break;
            }
            int eq = word.indexOf('=');
            String name = (eq < 0 ? word.substring(2) : word.substring(2, eq)).toLowerCase(Locale.ROOT);
            Kind kind = accepted.get(name);
            if (kind == null) {
                throw new FlagException("unknown flag: --" + name + " ("
                        + (accepted.isEmpty() ? "this instruction takes no flags" : "accepted: " + describe(accepted))
                        + ")");
            }
            String value;
            if (eq < 0) {
                if (kind != Kind.BOOL) {
                    throw new FlagException("missing a value on flag: --" + name + " (write --" + name + "=<value>)");
                }
                value = "true";
            } else {
                value = word.substring(eq + 1);
                if (kind == Kind.BOOL && !value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
                    throw new FlagException("expecting boolean value for flag --" + name + ", not: " + value);
                }
                if (kind == Kind.STRING && value.isEmpty()) {
                    throw new FlagException("missing a value on flag: --" + name);
                }
            }
            List<String> list = values.computeIfAbsent(name, k -> new ArrayList<>());
            if (kind != Kind.REPEATED && !list.isEmpty()) {
                throw new FlagException("duplicate flag specified: --" + name);
            }
            list.add(value);
        }
        return new Flags(values, args.substring(pos).strip());
    }

    private static String describe(Map<String, Kind> accepted) {
        return accepted.keySet().stream()
                .sorted()
                .map(n -> "--" + n)
                .reduce((a, b) -> a + ", " + b)
                .orElse("");
    }

    private static int wordEnd(String s, int pos, char escape) {
        char quote = 0;
        int i = pos;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote == 0 && Character.isWhitespace(c)) break;
            if (c == escape && quote != '\'' && i + 1 < s.length()) {
                i++;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (c == quote) {
                quote = 0;
            }
        }
        return i;
    }

    /** The arguments after the flags, stripped. */
    String rest() {
        return rest;
    }

    Optional<String> string(String name) {
        List<String> list = values.get(name);
        return list == null ? Optional.empty() : Optional.of(list.get(0));
    }

    boolean bool(String name) {
        return string(name).map(Boolean::parseBoolean).orElse(false);
    }

    List<String> repeated(String name) {
        return List.copyOf(values.getOrDefault(name, List.of()));
    }

    boolean isEmpty() {
        return values.isEmpty();
    }
}
