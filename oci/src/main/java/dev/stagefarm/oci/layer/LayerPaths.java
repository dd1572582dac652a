package dev.stagefarm.oci.layer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;

/** Paths inside a layer: relative, '/'-separated, never escaping the root. */
final class LayerPaths {

    /**
     * Depth-first lexical order by path component (bytes of UTF-8), as a directory walk that sorts each
     * directory yields it: a parent always precedes its children and a subtree stays contiguous.
     */
    static final Comparator<String> ORDER = LayerPaths::compare;

    private LayerPaths() {}

    private static int compare(String a, String b) {
        String[] x = a.split("/");
        String[] y = b.split("/");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c = Arrays.compareUnsigned(
                    x[i].getBytes(StandardCharsets.UTF_8), y[i].getBytes(StandardCharsets.UTF_8));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }

    /** {@code root}-relative name of {@code file}, '/'-separated, without a leading or trailing '/'. */
    static String relative(Path root, Path file) {
        return root.relativize(file).toString();
    }

    /**
     * Cleans a tar entry name or a user-given path into a relative path ("" for the root). Leading '/' and
     * "./" are dropped; a ".." that would climb above the root is refused.
     */
    static String clean(String name) throws IOException {
        StringBuilder out = new StringBuilder();
        int depth = 0;
        Deque<Integer> marks = new ArrayDeque<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (depth == 0) {
                    throw new IOException("path '" + name + "' escapes the layer's root");
                }
                out.setLength(marks.pop());
                depth--;
                continue;
            }
            marks.push(out.length());
            if (!out.isEmpty()) {
                out.append('/');
            }
            out.append(part);
            depth++;
        }
        return out.toString();
    }

    static String parent(String rel) {
        int slash = rel.lastIndexOf('/');
        return slash < 0 ? "" : rel.substring(0, slash);
    }

    static String name(String rel) {
        return rel.substring(rel.lastIndexOf('/') + 1);
    }

    static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }
}
