package dev.stagefarm.coordinator;

import dev.stagefarm.dockerfile.ArgDef;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.Instruction;
import dev.stagefarm.dockerfile.InvalidValueException;
import dev.stagefarm.dockerfile.KeyValue;
import dev.stagefarm.dockerfile.ShellWords;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.CopyOp;
import dev.stagefarm.proto.farm.CopySource;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.MkdirOp;
import dev.stagefarm.proto.farm.RunOp;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.Step;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The frontend's second half: walks a stage's instructions with the state BuildKit keeps (ENV,
 * ARG, WORKDIR, USER, SHELL), expands variables where BuildKit expands them, and turns each
 * filesystem instruction into a {@link Step} whose cache key hashes its parent key, the canonical
 * instruction and every input it can see. Config-only instructions edit the image config.
 */
final class StagePlanner {

    /** What planning needs from the build around the stage. */
    interface Inputs {
        String fileName();

        char escape();

        Optional<String> buildArg(String name);

        /** Global ARG values (declared before the first FROM), for re-declaration inside a stage. */
        Map<String, String> globalArgs();

        ContextIndex context();

        /** The stage a {@code --from} names (by name or index), if it is a stage. */
        OptionalInt stageIndex(String ref);

        /** Where a COPY --from takes exactly these sources from a finished stage. */
        StageSource stageSource(int stage, List<String> sources);
    }

    private final Inputs in;

    StagePlanner(Inputs in) {
        this.in = in;
    }

    StagePlan plan(Stage stage, StageBase base) throws DockerfileException {
        State s = new State(stage, base);
        for (Instruction ins : stage.instructions()) {
            try {
                s.apply(ins);
            } catch (InvalidValueException e) {
                throw error(ins, e.getMessage());
            } catch (ContextIndex.MissingSourceException e) {
                throw error(ins, e.getMessage());
            }
        }
        return new StagePlan(base, s.steps, s.key, s.config, s.history, s.sourceStages);
    }

    private DockerfileException error(Instruction ins, String detail) {
        return new DockerfileException(in.fileName(), ins.line(), Optional.of(ins.keyword()), detail);
    }

    /** The build state while walking one stage. */
    private final class State {
        final Stage stage;
        final ImageConfigEditor config;
        final Map<String, String> env;
        final Map<String, String> args = new LinkedHashMap<>();
        final List<Step> steps = new ArrayList<>();
        final List<History> history = new ArrayList<>();
        final Set<Integer> sourceStages = new HashSet<>();
        final int filesystemSteps;
        String key;
        boolean cmdSetHere;
        /** This build's history entries are dated when planned; the time is kept out of every cache key. */
        final String created = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();

        State(Stage stage, StageBase base) {
            this.stage = stage;
            this.config = base.config().copy();
            this.env = config.env();
            this.key = base.key();
            this.history.addAll(base.history());
            this.filesystemSteps = (int) stage.instructions().stream()
                .filter(i -> i instanceof Instruction.Run || i instanceof Instruction.Copy
                    || i instanceof Instruction.Workdir).count();
        }

        Optional<String> lookup(String name) {
            String v = env.get(name);
            return v != null ? Optional.of(v) : Optional.ofNullable(args.get(name));
        }

        String expand(String word) throws InvalidValueException {
            return ShellWords.expand(word, this::lookup, in.escape());
        }

        List<String> words(String text) throws InvalidValueException {
            return ShellWords.expandWords(text, this::lookup, in.escape());
        }

        void apply(Instruction ins) throws InvalidValueException, ContextIndex.MissingSourceException, DockerfileException {
            switch (ins) {
                case Instruction.Arg a -> {
                    for (ArgDef def : a.args()) {
                        Optional<String> value = in.buildArg(def.name());
                        if (value.isEmpty() && def.defaultValue().isPresent()) {
                            value = Optional.of(expand(def.defaultValue().get()));
                        }
                        if (value.isEmpty()) {
                            value = Optional.ofNullable(in.globalArgs().get(def.name()));
                        }
                        // an ARG without a value is declared but unset: RUN does not see it
                        value.ifPresentOrElse(v -> args.put(def.name(), v), () -> args.remove(def.name()));
                    }
                }
                case Instruction.Env e -> {
                    // every value is expanded with the environment from before this ENV
                    Map<String, String> updates = new LinkedHashMap<>();
                    for (KeyValue kv : e.vars()) {
                        updates.put(kv.key(), expand(kv.value()));
                    }
                    env.putAll(updates);
                    config.setEnv(env);
                    configOnly(ins, "ENV " + String.join(" ", updates.entrySet().stream()
                        .map(x -> x.getKey() + "=" + x.getValue()).toList()));
                }
                case Instruction.Workdir w -> {
                    String dir = absolute(expand(w.path()));
                    config.setWorkdir(dir);
                    key = CacheKey.of("workdir").add(key).add(dir).build();
                    addStep(ins, "WORKDIR " + dir, Step.newBuilder()
                        .setMkdir(MkdirOp.newBuilder().setPath(dir)), "WORKDIR " + dir);
                }
                case Instruction.Copy c -> copy(c);
                case Instruction.Run r -> run(r);
                case Instruction.Expose e -> {
                    List<String> ports = new ArrayList<>();
                    for (String p : e.ports()) {
                        for (String w : words(p)) {
                            ports.add(w.contains("/") ? w.toLowerCase(java.util.Locale.ROOT) : w + "/tcp");
                        }
                    }
                    ports.forEach(config::addExposedPort);
                    configOnly(ins, "EXPOSE map[" + String.join(" ", ports.stream().map(p -> p + ":{}").toList()) + "]");
                }
                case Instruction.Cmd c -> {
                    config.setCmd(c.execForm() ? c.args() : shellForm(c.command()));
                    cmdSetHere = true;
                    configOnly(ins, "CMD " + json(c.execForm() ? c.args() : shellForm(c.command())));
                }
                case Instruction.Entrypoint e -> {
                    config.setEntrypoint(e.execForm() ? e.args() : shellForm(e.command()));
                    if (!cmdSetHere) {
                        config.clearCmd(); // an inherited CMD does not survive a new ENTRYPOINT
                    }
                    configOnly(ins, "ENTRYPOINT " + json(e.execForm() ? e.args() : shellForm(e.command())));
                }
                case Instruction.User u -> {
                    config.setUser(expand(u.user()));
                    configOnly(ins, "USER " + config.user());
                }
                case Instruction.Label l -> {
                    for (KeyValue kv : l.labels()) {
                        config.putLabel(expand(kv.key()), expand(kv.value()));
                    }
                    configOnly(ins, ins.original());
                }
                case Instruction.Shell sh -> {
                    config.setShell(sh.shell());
                    configOnly(ins, "SHELL " + json(sh.shell()));
                }
                case Instruction.Volume v -> {
                    for (String p : v.paths()) {
                        config.addVolume(expand(p));
                    }
                    configOnly(ins, "VOLUME " + json(v.paths()));
                }
                case Instruction.StopSignal sig -> {
                    config.setStopSignal(expand(sig.signal()));
                    configOnly(ins, "STOPSIGNAL " + expand(sig.signal()));
                }
                case Instruction.Healthcheck h -> {
                    config.setHealthcheck(h.test(), h.interval().map(java.time.Duration::toNanos),
                        h.timeout().map(java.time.Duration::toNanos), h.startPeriod().map(java.time.Duration::toNanos),
                        h.startInterval().map(java.time.Duration::toNanos), h.retries());
                    configOnly(ins, "HEALTHCHECK " + json(h.test()));
                }
                case Instruction.Onbuild o -> {
                    config.addOnBuild(o.expression());
                    configOnly(ins, "ONBUILD " + o.expression());
                }
                case Instruction.Maintainer m -> {
                    config.putAuthor(m.name());
                    configOnly(ins, "MAINTAINER " + m.name());
                }
                case Instruction.From f -> throw error(ins, "FROM inside a stage (the parser splits stages)");
            }
        }

        private void copy(Instruction.Copy c) throws InvalidValueException, ContextIndex.MissingSourceException {
            if (!c.heredocs().isEmpty()) {
                throw new InvalidValueException("heredoc sources are not supported yet");
            }
            List<String> sources = new ArrayList<>();
            for (String src : c.sources()) {
                sources.add(expand(src));
            }
            String dest = expand(c.dest());
            Optional<String> chown = c.chown().isPresent() ? Optional.of(expand(c.chown().get())) : Optional.empty();
            Optional<String> chmod = c.chmod().isPresent() ? Optional.of(expand(c.chmod().get())) : Optional.empty();
            CacheKey k = CacheKey.of(c.add() ? "add" : "copy").add(key).add(sources).add(dest)
                .add(config.workdir()).add(chown.orElse("")).add(chmod.orElse(""));
            CopyOp.Builder op = CopyOp.newBuilder().addAllSources(sources).setDest(dest)
                .setCwd(config.workdir()).setChown(chown.orElse("")).setChmod(chmod.orElse(""))
                .setExtractArchives(c.add());
            String from = c.from().isPresent() ? expand(c.from().get()) : null;
            if (from == null) {
                for (String src : sources) {
                    if (src.startsWith("http://") || src.startsWith("https://")) {
                        throw new InvalidValueException("ADD of a URL is not supported yet: " + src);
                    }
                    ContextIndex.addTo(k.add(src), in.context().select(src));
                }
                op.setSource(CopySource.newBuilder().setContext(true));
            } else {
                OptionalInt ref = in.stageIndex(from);
                if (ref.isEmpty()) {
                    throw new InvalidValueException("--from=" + from + " names no earlier stage; copying from"
                        + " an image (COPY --from=IMAGE) is not supported yet");
                }
                StageSource source = in.stageSource(ref.getAsInt(), c.sources());
                sourceStages.add(ref.getAsInt());
                // keyed on the artifact's content: a rebuilt stage that yields the same files hits
                k.add("stage-artifact").add(source.getArtifact().getDigest());
                op.setSource(CopySource.newBuilder().setStage(source));
            }
            key = k.build();
            String what = (c.add() ? "ADD " : "COPY ") + (from == null ? "" : "--from=" + from + " ")
                + String.join(" ", sources) + " " + dest;
            addStep(c, what, Step.newBuilder().setCopy(op), what + " # buildkit");
        }

        private void run(Instruction.Run r) throws InvalidValueException {
            if (!r.heredocs().isEmpty()) {
                throw new InvalidValueException("RUN with heredocs is not supported yet");
            }
            if (!r.mounts().isEmpty()) {
                throw new InvalidValueException("RUN --mount is not supported yet");
            }
            List<String> argv = r.execForm() ? r.args() : shellForm(r.command());
            String network = r.network().orElse("default");
            if (!List.of("default", "none", "host").contains(network)) {
                throw new InvalidValueException("--network=" + network + ": expected default, none or host");
            }
            // ARG values reach RUN as environment variables; ENV wins over an ARG of the same name
            Map<String, String> runEnv = new TreeMap<>(args);
            runEnv.putAll(env);
            List<String> envList = new ArrayList<>();
            runEnv.forEach((k, v) -> envList.add(k + "=" + v));
            key = CacheKey.of("run").add(key).add(argv).add(envList).add(config.workdir())
                .add(config.user()).add(network).build();
            String shown = r.execForm() ? json(argv) : r.command();
            addStep(r, "RUN " + shown, Step.newBuilder().setRun(RunOp.newBuilder().addAllArgs(argv)
                .addAllEnv(envList).setCwd(config.workdir()).setUser(config.user()).setNetwork(network)),
                "RUN " + String.join(" ", argv) + " # buildkit");
        }

        private void addStep(Instruction ins, String what, Step.Builder step, String createdBy) {
            int index = steps.size();
            step.setKey(key).setLine(ins.line())
                .setDescription("[" + stage.displayName() + " " + (index + 2) + "/" + (filesystemSteps + 1) + "] " + what);
            steps.add(step.build());
            history.add(History.newBuilder().setCreatedBy(createdBy).setCreated(created).setStepIndex(index).build());
        }

        private void configOnly(Instruction ins, String createdBy) {
            history.add(History.newBuilder().setCreatedBy(createdBy).setCreated(created).setEmptyLayer(true)
                .setStepIndex(-1).build());
        }

        private List<String> shellForm(String command) {
            List<String> argv = new ArrayList<>(config.shell());
            argv.add(command);
            return argv;
        }

        private String absolute(String dir) {
            String joined = dir.startsWith("/") ? dir : config.workdir() + "/" + dir;
            String clean = "/" + ContextIndex.clean(joined);
            return clean;
        }
    }

    static String json(List<String> values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append('"').append(values.get(i).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return b.append(']').toString();
    }

    /** Expands with build args and global ARGs only, as FROM lines are. */
    static Function<String, Optional<String>> globalLookup(Map<String, String> globals) {
        return name -> Optional.ofNullable(globals.get(name));
    }
}
