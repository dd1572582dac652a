package dev.stagefarm.dockerfile;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Resolves one stage's FROM and {@code --from} references for {@link StageGraph}. */
final class StageResolver {

    private final Dockerfile dockerfile;
    private final Map<String, String> buildArgs;
    /** Global ARG values in effect (build args override defaults); a declared ARG without value is absent. */
    private final Map<String, String> globals = new HashMap<>();

    private final Map<String, Integer> stagesByName = new HashMap<>();

    StageResolver(Dockerfile dockerfile, Map<String, String> buildArgs) throws DockerfileException {
        this.dockerfile = dockerfile;
        this.buildArgs = buildArgs;
        for (Instruction.Arg arg : dockerfile.globalArgs()) {
            for (ArgDef def : arg.args()) {
                Optional<String> value = argValue(def, globals, arg);
                value.ifPresent(v -> globals.put(def.name(), v));
            }
        }
        for (Stage stage : dockerfile.stages()) {
            stage.name().ifPresent(n -> stagesByName.put(n, stage.index()));
        }
    }

    StageGraph.StageLinks resolve(int index) throws DockerfileException {
        Stage stage = dockerfile.stages().get(index);
        Optional<Integer> baseStage = Optional.empty();
        Optional<String> baseImage = Optional.empty();
        String base = expand(stage.baseImage(), globals, stage.line(), "FROM");
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
        Map<String, String> env = new LinkedHashMap<>();
        for (Instruction instruction : stage.instructions()) {
            switch (instruction) {
                case Instruction.Arg arg -> {
                    for (ArgDef def : arg.args()) {
                        Optional<String> value =
                                argValue(def, env, arg).or(() -> Optional.ofNullable(globals.get(def.name())));
                        value.ifPresent(v -> env.put(def.name(), v));
                    }
                }
                case Instruction.Env e -> {
                    for (KeyValue kv : e.vars()) {
                        env.put(expand(kv.key(), env, e.line(), "ENV"), expand(kv.value(), env, e.line(), "ENV"));
                    }
                }
                case Instruction.Copy c
                when c.from().isPresent() -> {
                    String from = expand(c.from().get(), env, c.line(), c.keyword());
                    Optional<Integer> source = stageReference(from, index, c.line(), c.keyword());
                    if (source.isPresent()) {
                        dependencies.add(source.get());
                        Set<String> paths = copies.computeIfAbsent(source.get(), k -> new TreeSet<>());
                        for (String src : c.sources()) {
                            paths.add(expand(src, env, c.line(), c.keyword()));
                        }
                    } else {
                        images.add(from);
                    }
                }
                case Instruction.Run r -> {
                    for (RunMount mount : r.mounts()) {
                        if (mount.from().isEmpty()) continue;
                        String from = expand(mount.from().get(), env, r.line(), "RUN");
                        Optional<Integer> source = stageReference(from, index, r.line(), "RUN");
                        if (source.isPresent()) {
                            dependencies.add(source.get());
                            copies.computeIfAbsent(source.get(), k -> new TreeSet<>())
                                    .add(expand(mount.source().orElse("/"), env, r.line(), "RUN"));
                        } else {
                            images.add(from);
                        }
                    }
                }
                default -> {}
            }
        }
        return new StageGraph.StageLinks(baseStage, baseImage, Set.copyOf(dependencies), Set.copyOf(images), copies);
    }

    /** A stage index for a {@code --from} value that names or numbers an earlier stage; empty for an image. */
    private Optional<Integer> stageReference(String from, int current, int line, String keyword)
            throws DockerfileException {
        Integer named = stagesByName.get(StageGraph.lower(from));
        if (named != null) {
            if (named == current) {
                throw error(line, keyword, "--from=" + from + " refers to this stage itself");
            }
            if (named > current) {
                throw error(
                        line,
                        keyword,
                        "--from=" + from + " refers to stage \"" + from + "\" (index " + named
                                + "), which is defined after this one; move it above stage " + current);
            }
            return Optional.of(named);
        }
        if (from.matches("\\d{1,9}")) {
            int n = Integer.parseInt(from);
            if (n >= current) {
                throw error(
                        line,
                        keyword,
                        "--from=" + from + " refers to stage index " + n + ", but "
                                + (current == 0 ? "no stage is" : "only stages 0 to " + (current - 1) + " are")
                                + " defined before this one");
            }
            return Optional.of(n);
        }
        return Optional.empty();
    }

    /** An ARG's value: the build arg if given, else its default expanded with {@code env}. */
    private Optional<String> argValue(ArgDef def, Map<String, String> env, Instruction.Arg arg)
            throws DockerfileException {
        if (buildArgs.containsKey(def.name())) {
            return Optional.of(buildArgs.get(def.name()));
        }
        if (def.defaultValue().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(expand(def.defaultValue().get(), env, arg.line(), "ARG"));
    }

    private String expand(String word, Map<String, String> env, int line, String keyword) throws DockerfileException {
        try {
            return ShellWords.expand(word, name -> Optional.ofNullable(env.get(name)), dockerfile.escape());
        } catch (InvalidValueException e) {
            throw error(line, keyword, e.getMessage());
        }
    }

    private DockerfileException error(int line, String keyword, String detail) {
        return new DockerfileException(dockerfile.fileName(), line, Optional.of(keyword), detail);
    }
}
