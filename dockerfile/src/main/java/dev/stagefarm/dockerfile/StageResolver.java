package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Resolves one stage's FROM and {@code --from} references for {@link StageGraph}: FROM with the
 * global ARGs (platform ARGs included), {@code --from} with the ENV and ARGs in effect before it,
 * which for a stage built FROM an earlier stage start with that stage's.
 */
final class StageResolver {

    private final Dockerfile dockerfile;
    private final Map<String, String> buildArgs;
    /** Global ARG values in effect (build args override defaults); a declared ARG without value is absent. */
    private final Map<String, String> globals;

    private final Map<String, Integer> stagesByName = new HashMap<>();
    private final Map<Integer, StageGraph.StageLinks> resolved = new HashMap<>();
    /** The ENV and ARGs each resolved stage ends with: what a stage built FROM it starts with. */
    private final Map<Integer, Scope> endScopes = new HashMap<>();

    private record Scope(Map<String, String> env, ArgScope args) {}

    StageResolver(Dockerfile dockerfile, Map<String, String> buildArgs) throws DockerfileException {
        this.dockerfile = dockerfile;
        this.buildArgs = buildArgs;
        this.globals = GlobalArgs.resolve(dockerfile, buildArgs);
        for (Stage stage : dockerfile.stages()) {
            stage.name().ifPresent(n -> stagesByName.put(n, stage.index()));
        }
    }

    Map<String, String> globals() {
        return globals;
    }

    StageGraph.StageLinks resolve(int index) throws DockerfileException {
        StageGraph.StageLinks done = resolved.get(index);
        if (done != null) {
            return done;
        }
        Stage stage = dockerfile.stages().get(index);
        Optional<Integer> baseStage = Optional.empty();
        Optional<String> baseImage = Optional.empty();
        String base;
        try {
            base = ShellWords.expand(
                    stage.baseImage(), name -> Optional.ofNullable(globals.get(name)), dockerfile.escape());
        } catch (InvalidValueException e) {
            throw error(stage.line(), "FROM", e.getMessage());
        }
        if (base.isEmpty()) {
            throw error(stage.line(), "FROM", "base name (" + stage.baseImage() + ") should not be blank");
        }
        Integer named = stagesByName.get(StageGraph.lower(base));
        // only an earlier stage counts: "FROM alpine AS alpine" builds from the image
        if (named != null && named < index) {
            baseStage = Optional.of(named);
        } else {
            baseImage = Optional.of(base);
        }

        Set<Integer> dependencies = new TreeSet<>();
        baseStage.ifPresent(dependencies::add);
        Set<String> images = new LinkedHashSet<>();
        Map<Integer, Set<String>> copies = new TreeMap<>();
        Map<Integer, List<List<String>>> copySources = new TreeMap<>();
        Set<Integer> mounts = new TreeSet<>();
        Map<String, String> env = new LinkedHashMap<>();
        ArgScope args = new ArgScope(name -> Optional.ofNullable(buildArgs.get(name)), globals);
        if (baseStage.isPresent()) {
            resolve(baseStage.get());
            Scope inherited = endScopes.get(baseStage.get());
            env.putAll(inherited.env());
            args = inherited.args().copy();
        }
        for (Instruction instruction : stage.instructions()) {
            switch (instruction) {
                case Instruction.Arg arg -> {
                    for (ArgDef def : arg.args()) {
                        try {
                            args.declare(def, lookup(env, args), dockerfile.escape());
                        } catch (InvalidValueException e) {
                            throw error(arg.line(), "ARG", e.getMessage());
                        }
                    }
                }
                case Instruction.Env e -> {
                    for (KeyValue kv : e.vars()) {
                        env.put(
                                expand(kv.key(), env, args, e.line(), "ENV"),
                                expand(kv.value(), env, args, e.line(), "ENV"));
                    }
                }
                case Instruction.Copy c -> {
                    if (c.from().isEmpty()) continue;
                    String from = expand(c.from().get(), env, args, c.line(), c.keyword());
                    Optional<Integer> source = stageReference(from, index, c.line(), c.keyword());
                    if (source.isPresent()) {
                        dependencies.add(source.get());
                        Set<String> paths = copies.computeIfAbsent(source.get(), k -> new TreeSet<>());
                        List<String> sources = new ArrayList<>();
                        for (String src : c.sources()) {
                            sources.add(expand(src, env, args, c.line(), c.keyword()));
                        }
                        paths.addAll(sources);
                        copySources
                                .computeIfAbsent(source.get(), k -> new ArrayList<>())
                                .add(List.copyOf(sources));
                    } else {
                        images.add(from);
                    }
                }
                case Instruction.Run r -> {
                    for (RunMount mount : r.mounts()) {
                        if (mount.from().isEmpty()) continue;
                        String from = expand(mount.from().get(), env, args, r.line(), "RUN");
                        Optional<Integer> source = stageReference(from, index, r.line(), "RUN");
                        if (source.isPresent()) {
                            dependencies.add(source.get());
                            mounts.add(source.get());
                            copies.computeIfAbsent(source.get(), k -> new TreeSet<>())
                                    .add(expand(mount.source().orElse("/"), env, args, r.line(), "RUN"));
                        } else {
                            images.add(from);
                        }
                    }
                }
                default -> {}
            }
        }
        endScopes.put(index, new Scope(env, args));
        StageGraph.StageLinks links = new StageGraph.StageLinks(
                baseStage,
                baseImage,
                Set.copyOf(dependencies),
                Set.copyOf(images),
                copies,
                copySources,
                Set.copyOf(mounts));
        resolved.put(index, links);
        return links;
    }

    /** A stage index for a {@code --from} value that names or numbers an earlier stage; empty for an image. */
    private Optional<Integer> stageReference(String from, int current, int line, String keyword)
            throws DockerfileException {
        Integer named = stagesByName.get(StageGraph.lower(from));
        if (named != null && named == current) {
            throw error(line, keyword, "--from=" + from + " refers to this stage itself");
        }
        if (named != null && named > current) {
            throw error(
                    line,
                    keyword,
                    "--from=" + from + " refers to stage \"" + from + "\" (index " + named
                            + "), which is defined after this one; move it above stage " + current);
        }
        if (named == null && isIndex(from) && Integer.parseInt(from) >= current) {
            int n = Integer.parseInt(from);
            throw error(
                    line,
                    keyword,
                    "--from=" + from + " refers to stage index " + n + ", but "
                            + (current == 0 ? "no stage is" : "only stages 0 to " + (current - 1) + " are")
                            + " defined before this one");
        }
        OptionalInt stage = earlierStage(dockerfile, from, current);
        return stage.isPresent() ? Optional.of(stage.getAsInt()) : Optional.empty();
    }

    /**
     * The one rule for what a {@code --from} value names: a stage defined before {@code consumer}
     * with that name (case-insensitive), else one with that index; empty when it is an image.
     */
    static OptionalInt earlierStage(Dockerfile dockerfile, String ref, int consumer) {
        String wanted = StageGraph.lower(ref);
        for (Stage s : dockerfile.stages()) {
            if (s.index() < consumer && s.name().filter(wanted::equals).isPresent()) {
                return OptionalInt.of(s.index());
            }
        }
        if (isIndex(ref) && Integer.parseInt(ref) < consumer) {
            return OptionalInt.of(Integer.parseInt(ref));
        }
        return OptionalInt.empty();
    }

    private static boolean isIndex(String ref) {
        return ref.matches("\\d{1,9}");
    }

    /** ENV wins over an ARG of the same name, as in the planner. */
    private static Function<String, Optional<String>> lookup(Map<String, String> env, ArgScope args) {
        return name -> env.containsKey(name) ? Optional.of(env.get(name)) : args.value(name);
    }

    private String expand(String word, Map<String, String> env, ArgScope args, int line, String keyword)
            throws DockerfileException {
        try {
            return ShellWords.expand(word, lookup(env, args), dockerfile.escape());
        } catch (InvalidValueException e) {
            throw error(line, keyword, e.getMessage());
        }
    }

    private DockerfileException error(int line, String keyword, String detail) {
        return new DockerfileException(dockerfile.fileName(), line, Optional.of(keyword), detail);
    }
}
