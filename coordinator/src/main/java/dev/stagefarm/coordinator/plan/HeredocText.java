package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.InvalidValueException;
import dev.stagefarm.dockerfile.ShellWords;
import java.util.Optional;
import java.util.function.Function;

/**
 * Variable expansion in a {@code COPY <<EOF} body, as BuildKit's raw lexer does it: quotes stay
 * as written (the body is file content, not shell words), a variable that is not set expands to
 * nothing, and a backslash escapes only a {@code $} (so {@code printf "a\n"} survives).
 */
final class HeredocText {

    private HeredocText() {}

    static String expand(String body, Function<String, Optional<String>> lookup, char escape)
            throws InvalidValueException {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < body.length()) {
            char c = body.charAt(i);
            if (c == escape && i + 1 < body.length() && body.charAt(i + 1) == '$') {
                out.append('$');
                i += 2;
            } else if (c == '$' && i + 1 < body.length() && body.charAt(i + 1) == '{') {
                int end = body.indexOf('}', i);
                if (end < 0) {
                    out.append(body, i, body.length());
                    break;
                }
                String inner = body.substring(i + 2, end);
                if (inner.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    out.append(lookup.apply(inner).orElse(""));
                } else {
                    // ${v:-w} and friends: the lexer's rules, applied to this expression only
                    out.append(ShellWords.expand(body.substring(i, end + 1), lookup, escape));
                }
                i = end + 1;
            } else if (c == '$' && i + 1 < body.length() && isNameStart(body.charAt(i + 1))) {
                int end = i + 1;
                while (end < body.length() && isNamePart(body.charAt(end))) {
                    end++;
                }
                String name = body.substring(i + 1, end);
                out.append(lookup.apply(name).orElse(""));
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static boolean isNameStart(char c) {
        return c == '_' || Character.isLetter(c);
    }

    private static boolean isNamePart(char c) {
        return c == '_' || Character.isLetterOrDigit(c);
    }
}
