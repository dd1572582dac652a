package dev.stagefarm.dockerfile;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns Dockerfile text into logical lines: reads the parser directives at the top, skips
 * comments and blank lines, joins continuation lines and hands out raw lines for heredoc bodies.
 */
final class LineReader {

    /** A complete instruction line: its first physical line number and the joined text. */
    record LogicalLine(int line, String text) {}

    private static final Pattern DIRECTIVE = Pattern.compile("^#\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.+?)\\s*$");
    private static final Set<String> KNOWN_DIRECTIVES = Set.of("syntax", "escape", "check");

    private final String fileName;
    private final String[] lines;
    private final Map<String, String> directives = new LinkedHashMap<>();
    private final char escape;
    private final Pattern continuation;
    private int next;

    LineReader(String text, String fileName) throws DockerfileException {
        this.fileName = fileName;
        String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
        this.lines = body.split("\r?\n", -1);
        readDirectives();
        this.escape = directives.getOrDefault("escape", "\\").charAt(0);
        this.continuation = Pattern.compile(Pattern.quote(String.valueOf(escape)) + "[ \t]*$");
    }

    /**
     * Directives are only recognised before anything else: the first blank line, ordinary
     * comment or instruction ends them, and an unknown directive counts as a comment.
     */
    private void readDirectives() throws DockerfileException {
        while (next < lines.length) {
            Matcher m = DIRECTIVE.matcher(lines[next]);
            if (!m.matches()) {
                return;
            }
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (!KNOWN_DIRECTIVES.contains(name)) {
                return;
            }
            if (directives.containsKey(name)) {
                throw new DockerfileException(
                        fileName, next + 1, Optional.empty(), "only one " + name + " parser directive can be used");
            }
            String value = m.group(2);
            if (name.equals("escape") && !value.equals("\\") && !value.equals("`")) {
                throw new DockerfileException(
                        fileName, next + 1, Optional.empty(), "invalid escape token '" + value + "': use ` or \\");
            }
            directives.put(name, value);
            next++;
        }
    }

    Map<String, String> directives() {
        return directives;
    }

    char escape() {
        return escape;
    }

    /**
     * The next instruction line, or empty at the end. Inside a continuation, comment lines and
     * blank lines are skipped; continuation lines keep their leading whitespace, as BuildKit does,
     * so a shell command sees the same text.
     */
    Optional<LogicalLine> nextLogical() {
        while (next < lines.length) {
            String stripped = lines[next].stripLeading();
            int start = next + 1;
            next++;
            if (stripped.isEmpty() || stripped.charAt(0) == '#') {
                continue;
            }
            StringBuilder joined = new StringBuilder();
            String part = stripped;
            while (true) {
                Matcher m = continuation.matcher(part);
                if (!m.find()) {
                    joined.append(part);
                    break;
                }
                joined.append(part, 0, m.start());
                String following = nextContinuationLine();
                if (following == null) {
                    break;
                }
                part = following;
            }
            return Optional.of(new LogicalLine(start, joined.toString().strip()));
        }
        return Optional.empty();
    }

    private String nextContinuationLine() {
        while (next < lines.length) {
            String candidate = lines[next++];
            String stripped = candidate.stripLeading();
            if (!stripped.isEmpty() && stripped.charAt(0) != '#') {
                return candidate;
            }
        }
        return null;
    }

    /**
     * Reads a heredoc body from the lines after the instruction, up to the line that is exactly
     * {@code delimiter} (after removing leading tabs when {@code chomp}).
     */
    Optional<String> readHeredoc(String delimiter, boolean chomp) {
        StringBuilder content = new StringBuilder();
        while (next < lines.length) {
            String line = lines[next++];
            if (chomp) {
                line = line.replaceFirst("^\t+", "");
            }
            if (line.equals(delimiter)) {
                return Optional.of(content.toString());
            }
            content.append(line).append('\n');
        }
        return Optional.empty();
    }
}
