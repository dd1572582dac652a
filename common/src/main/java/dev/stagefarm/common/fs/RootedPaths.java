package dev.stagefarm.common.fs;

import java.util.ArrayList;
import java.util.List;

/** Paths named relative to a root (a build context, an image's filesystem) that must stay inside it. */
public final class RootedPaths {

    private RootedPaths() {}

    /**
     * The path cleaned and made relative: empty and "." parts dropped, ".." taking one part back
     * but never climbing above the root ("../../etc" is "etc"), no leading or trailing '/'.
     * The root itself is "".
     */
    public static String clean(String path) {
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.removeLast();
                }
            } else {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }
}
