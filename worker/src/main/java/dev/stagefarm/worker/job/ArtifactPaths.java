package dev.stagefarm.worker.job;

import dev.stagefarm.common.GoGlob;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.linux.FileStat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Which paths of a stage's filesystem go into the artifact a later {@code COPY --from} takes. */
final class ArtifactPaths {

    private static final int MAX_LINKS = 40;

    private ArtifactPaths() {}

    /**
     * The sources as the COPY names them, globs expanded, each named without symlinks: a symlink on
     * the way (a parent or the source itself) is exported as a link, and what it leads to inside the
     * stage is exported too, so the consumer's COPY can follow it in the artifact. Every lookup is
     * made inside the stage's root, so a link to "/" means the stage's "/", never the worker's.
     */
    static List<String> select(Path root, List<String> sources) throws IOException, StepFailedException {
        Set<String> selected = new LinkedHashSet<>();
        try (RootFs fs = RootFs.open(root)) {
            for (String p : sources) {
                for (String expanded : expandGlob(root, p)) {
                    collect(fs, expanded, selected);
                }
            }
        }
        return new ArrayList<>(selected);
    }

    private static void collect(RootFs fs, String path, Set<String> out) throws IOException, StepFailedException {
        Deque<String> todo = parts(path);
        String at = "";
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.poll();
            if (part.equals("..")) {
                at = at.contains("/") ? at.substring(0, at.lastIndexOf('/')) : "";
                continue;
            }
            String next = at.isEmpty() ? part : at + "/" + part;
            Optional<FileStat> stat = fs.lstat(next);
            if (stat.isEmpty()) {
                throw new StepFailedException("COPY --from: " + path + " does not exist in the stage's filesystem");
            }
            if (stat.get().isSymlink()) {
                if (++links > MAX_LINKS) {
                    throw new StepFailedException("COPY --from: " + path + " has too many levels of symbolic links");
                }
                out.add(next);
                String target = fs.readlink(next);
                Deque<String> rest = parts(target);
                rest.addAll(todo);
                todo = rest;
                if (target.startsWith("/")) {
                    at = "";
                }
                continue;
            }
            at = next;
        }
        out.add(at.isEmpty() ? "/" : at);
    }

    private static Deque<String> parts(String path) {
        Deque<String> parts = new ArrayDeque<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return parts;
    }

    private static List<String> expandGlob(Path root, String path) throws IOException, StepFailedException {
        String clean = path.replaceAll("^/+", "");
        if (!GoGlob.hasMeta(clean)) {
            return List.of(path);
        }
        Pattern pattern = GoGlob.compile(clean);
        List<String> found;
        try (var walk = Files.walk(root, clean.split("/").length)) {
            found = walk.map(p -> root.relativize(p).toString())
                    .filter(rel -> !rel.isEmpty() && pattern.matcher(rel).matches())
                    .sorted()
                    .toList();
        }
        if (found.isEmpty()) {
            throw new StepFailedException("COPY --from: " + path + " matches nothing in the stage's filesystem");
        }
        return found;
    }
}
