package dev.stagefarm.dockerfile;

import java.util.Optional;
import java.util.function.Function;

/** The scanner behind {@link ShellWords}; one instance expands one text. */
final class ShellLexer {

    private static final int EOF = -1;
    private static final String SPECIAL_PARAMS = "@*#?-$!";

    private final String text;
    private final Function<String, Optional<String>> lookup;
    private final char escape;
    private final ShellWords.WordCollector words;
    /** False for a heredoc body, where quotes are file content (BuildKit's SkipProcessQuotes). */
    private final boolean quotes;

    private int pos;

    ShellLexer(String text, Function<String, Optional<String>> lookup, char escape, ShellWords.WordCollector words) {
        this(text, lookup, escape, words, true);
    }

    ShellLexer(
            String text,
            Function<String, Optional<String>> lookup,
            char escape,
            ShellWords.WordCollector words,
            boolean quotes) {
        this.text = text;
        this.lookup = lookup;
        this.escape = escape;
        this.words = words;
        this.quotes = quotes;
    }

    String expandAll() throws InvalidValueException {
        return process("", words);
    }

    /**
     * Expands until one of {@code stops} appears unquoted (left unconsumed) or the text ends.
     * {@code sink} is null inside {@code ${...}}, whose result is reported as one expansion.
     */
    private String process(String stops, ShellWords.WordCollector sink) throws InvalidValueException {
        StringBuilder out = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (stops.indexOf(c) >= 0) {
                break;
            }
            pos++;
            if (c == '\'' && quotes) {
                String quoted = singleQuoted();
                out.append(quoted);
                if (sink != null) sink.literal(quoted);
            } else if (c == '"' && quotes) {
                String quoted = doubleQuoted();
                out.append(quoted);
                if (sink != null) sink.literal(quoted);
            } else if (c == '$') {
                String value = dollar();
                out.append(value);
                if (sink != null) sink.expanded(value);
            } else if (c == escape) {
                // a trailing escape character is dropped, as BuildKit does
                if (pos < text.length()) {
                    char next = text.charAt(pos++);
                    out.append(next);
                    if (sink != null) sink.literal(String.valueOf(next));
                }
            } else {
                out.append(c);
                if (sink != null) sink.plain(c);
            }
        }
        return out.toString();
    }

    private String singleQuoted() throws InvalidValueException {
        int end = text.indexOf('\'', pos);
        if (end < 0) {
            throw new InvalidValueException(
                    "unexpected end of statement while looking for matching single-quote in: " + text);
        }
        String quoted = text.substring(pos, end);
        pos = end + 1;
        return quoted;
    }

    private String doubleQuoted() throws InvalidValueException {
        StringBuilder out = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c == '$') {
                out.append(dollar());
            } else if (c == escape && pos < text.length()) {
                char next = text.charAt(pos);
                // only these are escapable inside double quotes; other escapes stay as written
                if (next == '"' || next == '$' || next == escape) {
                    pos++;
                    out.append(next);
                } else {
                    out.append(c);
                }
            } else {
                out.append(c);
            }
        }
        throw new InvalidValueException(
                "unexpected end of statement while looking for matching double-quote in: " + text);
    }

    /** Called just after a {@code $}. */
    private String dollar() throws InvalidValueException {
        if (peek() == '{') {
            pos++;
            return braced();
        }
        String name = name();
        if (name.isEmpty()) {
            return "$"; // "$" before a non-name character is literal
        }
        return lookup.apply(name).orElse("");
    }

    private String braced() throws InvalidValueException {
        int start = pos - 2;
        String name = name();
        if (name.isEmpty()) {
            throw badSubstitution(start, "a variable name must follow ${");
        }
        Optional<String> value = lookup.apply(name);
        int c = peek();
        if (c == '}') {
            pos++;
            return value.orElse("");
        }
        if (c == EOF) {
            throw badSubstitution(start, "missing '}'");
        }
        pos++;
        boolean colon = c == ':';
        char op = (char) c;
        if (colon) {
            if (peek() == EOF) {
                throw badSubstitution(start, "missing '}'");
            }
            op = text.charAt(pos++);
        }
        switch (op) {
            case '-', '+', '?' -> {
                String word = process("}", null);
                expectClose(start);
                boolean set = value.isPresent() && !(colon && value.get().isEmpty());
                return switch (op) {
                    case '-' -> set ? value.get() : word;
                    case '+' -> set ? word : "";
                    default -> {
                        if (!set) {
                            throw new InvalidValueException(name + ": "
                                    + (word.isEmpty()
                                            ? (colon
                                                    ? "is not allowed to be empty or unset"
                                                    : "is not allowed to be unset")
                                            : word));
                        }
                        yield value.get();
                    }
                };
            }
            case '#', '%' -> {
                if (colon) {
                    throw badSubstitution(start, "unsupported modifier ':" + op + "'");
                }
                boolean longest = peek() == op;
                if (longest) pos++;
                String pattern = process("}", null);
                expectClose(start);
                String v = value.orElse("");
                return op == '#'
                        ? GlobPattern.removePrefix(v, pattern, longest)
                        : GlobPattern.removeSuffix(v, pattern, longest);
            }
            case '/' -> {
                if (colon) {
                    throw badSubstitution(start, "unsupported modifier ':/'");
                }
                boolean all = peek() == '/';
                if (all) pos++;
                String pattern = process("/}", null);
                String replacement = "";
                if (peek() == '/') {
                    pos++;
                    replacement = process("}", null);
                }
                expectClose(start);
                return GlobPattern.replace(value.orElse(""), pattern, replacement, all);
            }
            default -> throw badSubstitution(start, "unsupported modifier '" + (colon ? ":" : "") + op + "'");
        }
    }

    private void expectClose(int start) throws InvalidValueException {
        if (peek() != '}') {
            throw badSubstitution(start, "missing '}'");
        }
        pos++;
    }

    /** A name: letters, digits and '_' not starting with a digit; or all digits; or one special parameter. */
    private String name() {
        int start = pos;
        if (pos < text.length() && Character.isDigit(text.charAt(pos))) {
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
            return text.substring(start, pos);
        }
        if (pos < text.length() && SPECIAL_PARAMS.indexOf(text.charAt(pos)) >= 0) {
            pos++;
            return text.substring(start, pos);
        }
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (!Character.isLetterOrDigit(c) && c != '_') break;
            pos++;
        }
        return text.substring(start, pos);
    }

    private int peek() {
        return pos < text.length() ? text.charAt(pos) : EOF;
    }

    private InvalidValueException badSubstitution(int start, String why) {
        int end = text.indexOf('}', start);
        String shown = end < 0 ? text.substring(start) : text.substring(start, end + 1);
        return new InvalidValueException("bad substitution " + shown + ": " + why);
    }
}
