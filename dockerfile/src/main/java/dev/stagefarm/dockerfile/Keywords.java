package dev.stagefarm.dockerfile;

import java.util.Comparator;
import java.util.Optional;
import java.util.Set;

/** The instruction keywords, and a "did you mean" for misspellings. */
final class Keywords {

    static final Set<String> ALL = Set.of(
            "FROM",
            "ARG",
            "ENV",
            "WORKDIR",
            "COPY",
            "ADD",
            "RUN",
            "EXPOSE",
            "CMD",
            "ENTRYPOINT",
            "USER",
            "LABEL",
            "SHELL",
            "VOLUME",
            "STOPSIGNAL",
            "HEALTHCHECK",
            "ONBUILD",
            "MAINTAINER");

    private Keywords() {}

    /** The closest keyword within two edits (one for very short words), if any. */
    static Optional<String> suggest(String upper) {
        int allowed = upper.length() <= 3 ? 1 : 2;
        return ALL.stream()
                .filter(k -> distance(k, upper) <= allowed)
                .min(Comparator.comparingInt((String k) -> distance(k, upper)).thenComparing(k -> k));
    }

    /** Edit distance where swapping two adjacent letters (FORM for FROM) counts as one edit. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
