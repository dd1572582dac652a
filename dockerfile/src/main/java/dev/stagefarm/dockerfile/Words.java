package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Splitting of instruction arguments before expansion; quotes and escapes are kept as written. */
final class Words {

    private Words() {}

    /**
     * Splits on whitespace outside quotes. The escape character keeps the next character in the
     * word (both are kept: removing them is the expander's job).
     */
    static List<String> split(String text, char escape) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == 0 && Character.isWhitespace(c)) {
                if (!word.isEmpty()) {
                    words.add(word.toString());
                    word.setLength(0);
                }
                continue;
            }
            word.append(c);
            if (c == escape && quote != '\'' && i + 1 < text.length()) {
                word.append(text.charAt(++i));
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (c == quote) {
                quote = 0;
            }
        }
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        return words;
    }

    /** Splits on whitespace only, ignoring quotes. */
    static List<String> splitWhitespace(String text) {
        String trimmed = text.strip();
        return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s+"));
    }

    /**
     * The text as a JSON array of strings (exec form), or empty when it is not one; then the
     * instruction falls back to shell form, as BuildKit does.
     */
    static Optional<List<String>> jsonArray(String text) {
        String s = text.strip();
        if (!s.startsWith("[")) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>();
        int[] pos = {1};
        skipSpace(s, pos);
        if (pos[0] < s.length() && s.charAt(pos[0]) == ']') {
            pos[0]++;
            return pos[0] == s.length() ? Optional.of(List.of()) : Optional.empty();
        }
        while (true) {
            skipSpace(s, pos);
            Optional<String> str = jsonString(s, pos);
            if (str.isEmpty()) {
                return Optional.empty();
            }
            out.add(str.get());
            skipSpace(s, pos);
            if (pos[0] >= s.length()) {
                return Optional.empty();
            }
            char c = s.charAt(pos[0]++);
            if (c == ']') {
                return pos[0] == s.length() ? Optional.of(List.copyOf(out)) : Optional.empty();
            }
            if (c != ',') {
                return Optional.empty();
            }
        }
    }

    private static void skipSpace(String s, int[] pos) {
        while (pos[0] < s.length() && Character.isWhitespace(s.charAt(pos[0]))) pos[0]++;
    }

    private static Optional<String> jsonString(String s, int[] pos) {
        if (pos[0] >= s.length() || s.charAt(pos[0]) != '"') {
            return Optional.empty();
        }
        StringBuilder out = new StringBuilder();
        int i = pos[0] + 1;
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '"') {
                pos[0] = i;
                return Optional.of(out.toString());
            }
            if (c < 0x20) {
                return Optional.empty();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (i >= s.length()) {
                return Optional.empty();
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) return Optional.empty();
                    try {
                        out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException ex) {
                        return Optional.empty();
                    }
                    i += 4;
                }
                default -> {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }
}
