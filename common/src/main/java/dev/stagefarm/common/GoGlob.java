package dev.stagefarm.common;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Go's filepath.Match pattern syntax ({@code * ? [class] \escape}), which Dockerfile COPY sources
 * and .dockerignore use, plus .dockerignore's {@code **} for any number of directories.
 */
public final class GoGlob {

    private GoGlob() {}

    public static boolean hasMeta(String pattern) {
        return pattern.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '\\');
    }

    /**
     * Whether one of {@code patterns} (from {@link #compile}) matches {@code path} or one of its
     * parent directories, as COPY --exclude decides. The coordinator keys a step on what this
     * keeps and the worker copies what this keeps, so both use this one.
     */
    public static boolean excludes(List<Pattern> patterns, String path) {
        for (String p = path; !p.isEmpty(); p = p.contains("/") ? p.substring(0, p.lastIndexOf('/')) : "") {
            String candidate = p;
            if (patterns.stream().anyMatch(x -> x.matcher(candidate).matches())) {
                return true;
            }
        }
        return false;
    }

    public static Pattern compile(String pattern) {
        return Pattern.compile(toRegex(pattern));
    }

    static String toRegex(String pattern) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            switch (c) {
                case '*' -> {
                    if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                        i++;
                        if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '/') {
                            i++;
                            re.append("(.*/)?"); // "**/" also matches no directory at all
                        } else {
                            re.append(".*");
                        }
                    } else {
                        re.append("[^/]*");
                    }
                }
                case '?' -> re.append("[^/]");
                case '[' -> {
                    int end = pattern.indexOf(']', i + 1);
                    if (end < 0) {
                        re.append("\\[");
                    } else {
                        String cls = pattern.substring(i + 1, end);
                        if (cls.startsWith("^") || cls.startsWith("!")) {
                            cls = "^" + cls.substring(1);
                        }
                        re.append('[')
                                .append(cls.replace("\\", "\\\\").replace("[", "\\["))
                                .append(']');
                        i = end;
                    }
                }
                case '\\' -> {
                    if (i + 1 < pattern.length()) {
                        re.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return re.toString();
    }
}
