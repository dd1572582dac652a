package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which stages a build needs and how they depend on each other. Only stages reachable from the
 * target are resolved: like BuildKit, a stage nothing needs is neither built nor checked, so a
 * broken {@code --from} in it does not fail the build.
 *
 * <p>A stage depends on the stage named in its FROM and on stages named by {@code COPY --from}
 * or {@code RUN --mount=...,from=}. FROM is expanded with the global ARGs; {@code --from} with the
 * ARGs and ENVs declared in the stage before it. A FROM or {@code --from} that names no earlier
 * stage is an image reference.
 *
 * <p>The global ARGs hold the automatic platform ARGs too, so {@code FROM tool-${TARGETARCH}}
 * picks the stage {@code tool-amd64}. A stage built FROM an earlier stage starts with the ARGs
 * and ENVs that stage declared.
 */
public final class StageGraph {

    private final Dockerfile dockerfile;
    private final int target;
    private final List<Integer> reachable;
    private final Map<Integer, StageLinks> links;
    private final Map<Integer, Set<String>> copiedPaths;
    private final Map<String, String> globalArgs;

    private StageGraph(
            Dockerfile dockerfile,
            int target,
            List<Integer> reachable,
            Map<Integer, StageLinks> links,
            Map<String, String> globalArgs) {
        this.dockerfile = dockerfile;
        this.globalArgs = globalArgs;
        this.target = target;
        this.reachable = List.copyOf(reachable);
        this.links = Map.copyOf(links);
        Map<Integer, Set<String>> paths = new TreeMap<>();
        for (StageLinks l : links.values()) {
            l.copies()
                    .forEach((from, sources) ->
                            paths.computeIfAbsent(from, k -> new TreeSet<>()).addAll(sources));
        }
        paths.replaceAll((k, v) -> Collections.unmodifiableSet(v));
        this.copiedPaths = Collections.unmodifiableMap(paths);
    }

    /** Builds the graph for {@code target} (the last stage when empty), with default ARG values. */
    public static StageGraph build(Dockerfile dockerfile, Optional<String> target) throws DockerfileException {
        return build(dockerfile, target, Map.of());
    }

    /** As {@link #build(Dockerfile, Optional)}, with {@code --build-arg} values overriding ARG defaults. */
    public static StageGraph build(Dockerfile dockerfile, Optional<String> target, Map<String, String> buildArgs)
            throws DockerfileException {
        int targetIndex = dockerfile.stages().size() - 1;
        if (target.isPresent()) {
            targetIndex = dockerfile
                    .stage(target.get())
                    .map(Stage::index)
                    .orElseThrow(() -> new DockerfileException(
                            dockerfile.fileName(),
                            0,
                            Optional.empty(),
                            "target stage \"" + target.get() + "\" could not be found"));
        }
        StageResolver resolver = new StageResolver(dockerfile, buildArgs);
        Map<Integer, StageLinks> links = new HashMap<>();
        List<Integer> order = new ArrayList<>();
        visit(targetIndex, resolver, links, order);
        return new StageGraph(dockerfile, targetIndex, order, links, resolver.globals());
    }

    /** Depth-first, dependencies first: references only point backwards, so there are no cycles. */
    private static void visit(int stage, StageResolver resolver, Map<Integer, StageLinks> links, List<Integer> order)
            throws DockerfileException {
        if (links.containsKey(stage)) {
            return;
        }
        StageLinks l = resolver.resolve(stage);
        links.put(stage, l);
        for (int dependency : l.dependencies()) {
            visit(dependency, resolver, links, order);
        }
        order.add(stage);
    }

    public Dockerfile dockerfile() {
        return dockerfile;
    }

    /**
     * The global ARG values in effect: the automatic platform ARGs and the ARGs declared before the
     * first FROM, with {@code --build-arg} applied ({@link GlobalArgs}).
     */
    public Map<String, String> globalArgs() {
        return globalArgs;
    }

    /**
     * The stage an expanded {@code COPY --from} or {@code --mount from=} value in stage {@code consumer}
     * names: an earlier stage by name (case-insensitive) or by index; empty when it names an image.
     */
    public OptionalInt stageReference(String ref, int consumer) {
        return StageResolver.earlierStage(dockerfile, ref, consumer);
    }

    /** Index of the target stage. */
    public int target() {
        return target;
    }

    /** The stages the target needs, each after the stages it depends on; the target is last. */
    public List<Integer> reachable() {
        return reachable;
    }

    public boolean isReachable(int stage) {
        return links.containsKey(stage);
    }

    /** The stages {@code stage} uses directly: its FROM stage and its {@code --from} stages. */
    public Set<Integer> dependencies(int stage) {
        return linksOf(stage).dependencies();
    }

    /** The earlier stage this stage is built FROM, if it is not built from an image. */
    public Optional<Integer> baseStage(int stage) {
        return linksOf(stage).baseStage();
    }

    /**
     * Whether a reachable stage takes {@code stage}'s layers: it is built FROM it, or mounts it with
     * {@code RUN --mount=from=}, which is served from the stage's snapshots on the worker that built
     * it. A stage that is only copied from hands over artifacts instead.
     */
    public boolean isBuiltOrMountedFrom(int stage) {
        return reachable.stream()
                .map(links::get)
                .anyMatch(l ->
                        l.baseStage().equals(Optional.of(stage)) || l.mounts().contains(stage));
    }

    /** The expanded image reference this stage is built FROM ({@code scratch} included); empty for a stage base. */
    public Optional<String> baseImage(int stage) {
        return linksOf(stage).baseImage();
    }

    /** Images (not stages) that this stage copies or mounts from with {@code --from}. */
    public Set<String> externalImages(int stage) {
        return linksOf(stage).images();
    }

    /**
     * The paths other reachable stages copy (or mount) from {@code stage}, expanded; empty when
     * nothing does. A mount without {@code source} takes the whole root, {@code /}.
     */
    public Set<String> pathsCopiedFrom(int stage) {
        linksOf(stage);
        return copiedPaths.getOrDefault(stage, Set.of());
    }

    /** {@link #pathsCopiedFrom} for every stage something copies from, by stage index. */
    public Map<Integer, Set<String>> copiedPaths() {
        return copiedPaths;
    }

    /**
     * The sources of every {@code COPY --from} in a reachable stage that takes from {@code stage},
     * one list per instruction, each expanded with the ARGs and ENVs its own stage has declared
     * before it (as the stage's planner expands them, short of ENVs its base image sets).
     */
    public List<List<String>> copySourcesFrom(int stage) {
        linksOf(stage);
        List<List<String>> out = new ArrayList<>();
        for (int consumer : reachable) {
            out.addAll(links.get(consumer).copySources().getOrDefault(stage, List.of()));
        }
        return out;
    }

    private StageLinks linksOf(int stage) {
        StageLinks l = links.get(stage);
        if (l == null) {
            throw new IllegalArgumentException("stage " + stage + " is not needed to build target stage " + target
                    + " (reachable: " + reachable + ")");
        }
        return l;
    }

    /**
     * What one stage refers to. {@code copies} maps a source stage to the paths taken from it;
     * {@code copySources} to the expanded sources of each {@code COPY --from} naming it, in order;
     * {@code mounts} holds the stages its {@code RUN --mount=from=} name.
     */
    record StageLinks(
            Optional<Integer> baseStage,
            Optional<String> baseImage,
            Set<Integer> dependencies,
            Set<String> images,
            Map<Integer, Set<String>> copies,
            Map<Integer, List<List<String>>> copySources,
            Set<Integer> mounts) {}

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
