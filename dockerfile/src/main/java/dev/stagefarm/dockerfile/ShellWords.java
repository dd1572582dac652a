package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Variable expansion and quote removal for Dockerfile values, with the semantics of BuildKit's
 * shell lexer (not a full POSIX shell: no command substitution, no globbing).
 *
 * <ul>
 *   <li>{@code $v}, {@code ${v}}; an unset variable expands to the empty string;
 *   <li>{@code ${v:-w}}, {@code ${v-w}}, {@code ${v:+w}}, {@code ${v+w}}, {@code ${v:?msg}},
 *       {@code ${v?msg}} (the colon forms treat an empty value like an unset one);
 *   <li>{@code ${v#p}}, {@code ${v##p}}, {@code ${v%p}}, {@code ${v%%p}}, {@code ${v/p/r}},
 *       {@code ${v//p/r}} with {@code *}, {@code ?} and {@code [..]} patterns;
 *   <li>single quotes keep everything literal; double quotes allow expansion and let the
 *       escape character escape only {@code "}, {@code $} and itself;
 *   <li>outside quotes the escape character makes the next character literal.
 * </ul>
 */
public final class ShellWords {

    private ShellWords() {}

    /**
     * Expands one word (BuildKit's ProcessWord): quotes are removed, whitespace is kept,
     * the result is a single string.
     */
    public static String expand(String word, Function<String, Optional<String>> lookup, char escape)
            throws InvalidValueException {
        return new ShellLexer(word, lookup, escape, null).expandAll();
    }

    /**
     * Expands the body of an unquoted heredoc ({@code COPY <<EOF}), as BuildKit does: variables
     * expand, quotes are content and stay, and a backslash, whatever the {@code escape} directive
     * says, is dropped and makes the next character literal: {@code \\} gives one backslash,
     * {@code \$} a dollar sign, {@code \n} the letter n.
     */
    public static String expandHeredoc(String body, Function<String, Optional<String>> lookup)
            throws InvalidValueException {
        return new ShellLexer(body, lookup, '\\', null, false).expandAll();
    }

    /**
     * Expands and splits into words (BuildKit's ProcessWords): splits on whitespace that is
     * neither quoted nor escaped, including whitespace produced by an unquoted expansion.
     */
    public static List<String> expandWords(String text, Function<String, Optional<String>> lookup, char escape)
            throws InvalidValueException {
        WordCollector words = new WordCollector();
        new ShellLexer(text, lookup, escape, words).expandAll();
        return words.finish();
    }

    /** Builds the word list while the lexer walks the text. */
    static final class WordCollector {
        private final List<String> words = new ArrayList<>();
        private final StringBuilder current = new StringBuilder();
        private boolean inWord;

        /** A character as written, unquoted: whitespace separates words. */
        void plain(char c) {
            if (Character.isWhitespace(c)) {
                flush();
            } else {
                current.append(c);
                inWord = true;
            }
        }

        /** Quoted or escaped text: never splits, and even "" makes a word. */
        void literal(String s) {
            current.append(s);
            inWord = true;
        }

        /** The value of an unquoted expansion: split like plain text. */
        void expanded(String s) {
            for (int i = 0; i < s.length(); i++) {
                plain(s.charAt(i));
            }
        }

        private void flush() {
            if (inWord) {
                words.add(current.toString());
                current.setLength(0);
                inWord = false;
            }
        }

        List<String> finish() {
            flush();
            return List.copyOf(words);
        }
    }
}
