package dev.stagefarm.dockerfile;

import java.util.regex.Pattern;

/** Shell patterns ({@code *}, {@code ?}, {@code [...]}) for {@code ${v#p}}, {@code ${v%p}} and {@code ${v/p/r}}. */
final class GlobPattern {

    private GlobPattern() {}

    static String removePrefix(String value, String glob, boolean longest) {
        Pattern p = compile(glob);
        for (int i = 0; i <= value.length(); i++) {
            int len = longest ? value.length() - i : i;
            if (p.matcher(value.substring(0, len)).matches()) {
                return value.substring(len);
            }
        }
        return value;
    }

    static String removeSuffix(String value, String glob, boolean longest) {
        Pattern p = compile(glob);
        for (int i = 0; i <= value.length(); i++) {
            int start = longest ? i : value.length() - i;
            if (p.matcher(value.substring(start)).matches()) {
                return value.substring(0, start);
            }
        }
        return value;
    }

    /** Replaces the longest match at the leftmost position; every such match when {@code all}. */
    static String replace(String value, String glob, String replacement, boolean all) {
        if (glob.isEmpty()) {
            return value;
        }
        Pattern p = compile(glob);
        StringBuilder out = new StringBuilder();
        int from = 0;
        while (from <= value.length()) {
            int[] match = findLongest(p, value, from);
            if (match == null) break;
            out.append(value, from, match[0]).append(replacement);
            if (match[1] == match[0]) {
                if (match[0] < value.length()) out.append(value.charAt(match[0]));
                from = match[0] + 1;
            } else {
                from = match[1];
            }
            if (!all) break;
        }
        if (from <= value.length()) out.append(value.substring(Math.min(from, value.length())));
        return out.toString();
    }

    private static int[] findLongest(Pattern p, String value, int from) {
        for (int start = from; start <= value.length(); start++) {
            for (int end = value.length(); end >= start; end--) {
                if (p.matcher(value.substring(start, end)).matches()) {
                    return new int[] {start, end};
                }
            }
        }
        return null;
    }

    static Pattern compile(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int end = glob.indexOf(']', i + 2);
                    if (end < 0) {
                        re.append("\\[");
                    } else {
                        String set = glob.substring(i + 1, end);
                        if (set.startsWith("!")) set = "^" + set.substring(1);
                        re.append('[')
                                .append(set.replace("\\", "\\\\").replace("[", "\\["))
                                .append(']');
                        i = end;
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
