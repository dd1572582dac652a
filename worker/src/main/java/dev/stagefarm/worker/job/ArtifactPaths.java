package dev.stagefarm.worker.job;

import dev.stagefarm.common.GoGlob;
import dev.stagefarm.common.fs.RootPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Which paths of a stage's filesystem go into the artifact a later {@code COPY --from} takes. */
final class ArtifactPaths {

    private ArtifactPaths() {}

    /**
     * The sources as the COPY names them, globs expanded; for a source that is a symlink also
     * what it points to, since COPY copies the target's content under the link's name.
     */
    static List<String> select(Path root, List<String> sources) throws IOException, StepFailedException {
        List<String> selected = new ArrayList<>();
        for (String p : sources) {
            selected.addAll(expandGlob(root, p));
        }
        List<String> targets = new ArrayList<>();
        for (String p : selected) {
            if (Files.isSymbolicLink(RootPath.resolveNoFollow(root, p))) {
                Path target = RootPath.resolve(root, p);
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    targets.add(root.relativize(target).toString());
                }
            }
        }
        selected.addAll(targets);
        return selected;
    }

    private static List<String> expandGlob(Path root, String path) throws IOException, StepFailedException {
        String clean = path.replaceAll("^/+", "");
        if (!GoGlob.hasMeta(clean)) {
            return List.of(path);
        }
        java.util.regex.Pattern pattern = GoGlob.compile(clean);
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
