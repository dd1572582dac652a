package dev.stagefarm.cli.context;

import dev.stagefarm.common.GoGlob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * .dockerignore rules as BuildKit applies them: Go's filepath.Match syntax plus {@code **},
 * {@code !} exceptions, the last matching rule wins, a leading {@code /} is dropped, and a rule
 * that matches a directory covers everything below it.
 */
public final class DockerIgnore {

    private record Rule(Pattern regex, boolean exception, String text) {}

    private final List<Rule> rules;

    private DockerIgnore(List<Rule> rules) {
        this.rules = rules;
    }

    public static DockerIgnore none() {
        return new DockerIgnore(List.of());
    }

    /**
     * Reads the ignore file for a build: {@code <Dockerfile>.dockerignore} beside the Dockerfile
     * wins over the context's {@code .dockerignore}, as in BuildKit.
     */
    public static DockerIgnore forBuild(Path context, Path dockerfile) throws IOException {
        Path specific = dockerfile.resolveSibling(dockerfile.getFileName() + ".dockerignore");
        if (Files.isRegularFile(specific)) {
            return parse(Files.readString(specific));
        }
        Path general = context.resolve(".dockerignore");
        return Files.isRegularFile(general) ? parse(Files.readString(general)) : none();
    }

    public static DockerIgnore parse(String text) {
        List<Rule> rules = new ArrayList<>();
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            boolean exception = line.startsWith("!");
            if (exception) {
                line = line.substring(1).strip();
            }
            String cleaned = clean(line);
            if (cleaned.isEmpty()) {
                continue;
            }
            rules.add(new Rule(GoGlob.compile(cleaned), exception, line));
        }
        return new DockerIgnore(List.copyOf(rules));
    }

    /** Whether a context path ('/'-separated, relative) is left out of the build context. */
    public boolean excludes(String path) {
        boolean excluded = false;
        for (Rule rule : rules) {
            if (matchesOrParentMatches(rule.regex, path)) {
                excluded = !rule.exception;
            }
        }
        return excluded;
    }

    /**
     * Whether a directory must still be walked although it is excluded, because an exception
     * rule could bring back something below it.
     */
    public boolean mayIncludeBelow(String dir) {
        for (Rule rule : rules) {
            if (rule.exception) {
                String p = rule.text.startsWith("/") ? rule.text.substring(1) : rule.text;
                if (p.startsWith(dir + "/") || p.startsWith("**") || p.startsWith("*")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean matchesOrParentMatches(Pattern regex, String path) {
        if (regex.matcher(path).matches()) {
            return true;
        }
        for (int i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
            if (regex.matcher(path.substring(0, i)).matches()) {
                return true;
            }
        }
        return false;
    }

    /** Like Go's filepath.Clean for relative patterns, with the leading '/' dropped. */
    static String clean(String pattern) {
        List<String> parts = new ArrayList<>();
        for (String part : pattern.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..") && !parts.isEmpty() && !parts.getLast().equals("..")) {
                parts.removeLast();
            } else {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }
}
