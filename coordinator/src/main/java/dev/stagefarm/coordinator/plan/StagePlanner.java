package dev.stagefarm.coordinator.plan;

import com.google.protobuf.ByteString;
import dev.stagefarm.common.Digest;
import dev.stagefarm.dockerfile.ArgDef;
import dev.stagefarm.dockerfile.ArgScope;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.DockerfileParser;
import dev.stagefarm.dockerfile.Heredoc;
import dev.stagefarm.dockerfile.Instruction;
import dev.stagefarm.dockerfile.InvalidValueException;
import dev.stagefarm.dockerfile.KeyValue;
import dev.stagefarm.dockerfile.RunMount;
import dev.stagefarm.dockerfile.ShellWords;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.CopyOp;
import dev.stagefarm.proto.farm.CopySource;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.ImageSource;
import dev.stagefarm.proto.farm.InlineSource;
import dev.stagefarm.proto.farm.MkdirOp;
import dev.stagefarm.proto.farm.RunOp;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.UrlSource;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The frontend's second half: walks a stage's instructions with the state BuildKit keeps (ENV,
 * ARG, WORKDIR, USER, SHELL), expands variables where BuildKit expands them, and turns each
 * filesystem instruction into a {@link Step} whose cache key hashes its parent key, the canonical
 * instruction and every input it can see. Config-only instructions edit the image config.
 */
public final class StagePlanner {

    /** What planning needs from the build around the stage. */
    public interface Inputs {
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

        /**
         * The layers of an image that {@code COPY --from=IMAGE} names (an image, not a stage),
         * resolved in the registry; empty when this build cannot resolve images there.
         *
         * @throws InvalidValueException the image cannot be resolved (the planner adds the line)
         */
        default Optional<ImageSource> image(String ref) throws InvalidValueException {
            return Optional.empty();
        }
    }

    /** The comment BuildKit's Dockerfile frontend puts on every history entry it writes. */
    static final String COMMENT = "buildkit.dockerfile.v0";

    private final Inputs in;

    public StagePlanner(Inputs in) {
        this.in = in;
    }

    public StagePlan plan(Stage stage, StageBase base) throws DockerfileException {
        Optional<Instant> epoch;
        try {
            epoch = SourceDateEpoch.of(in.buildArg(SourceDateEpoch.NAME), in.globalArgs());
        } catch (InvalidValueException e) {
            throw new DockerfileException(in.fileName(), stage.line(), Optional.of("FROM"), e.getMessage());
        }
        State s = new State(stage, base, epoch);
        // the base image's ONBUILD triggers run first, as if written right after FROM; they are
        // not inherited any further
        List<Instruction> triggers = new ArrayList<>();
        for (String expression : s.config.takeOnBuild()) {
            try {
                triggers.add(DockerfileParser.parseTrigger(expression, in.fileName(), stage.line(), in.escape()));
            } catch (DockerfileException e) {
                throw new DockerfileException(
                        in.fileName(),
                        stage.line(),
                        Optional.of("FROM"),
                        "ONBUILD trigger \"" + expression + "\" of the base image: " + e.detail());
            }
        }
        s.countSteps(triggers);
        List<Instruction> all = new ArrayList<>(triggers);
        all.addAll(stage.instructions());
        for (Instruction ins : all) {
            try {
                s.apply(ins);
            } catch (InvalidValueException | IllegalArgumentException e) {
                throw error(ins, e.getMessage());
            } catch (ContextIndex.MissingSourceException e) {
                throw error(ins, e.getMessage());
            }
        }
        return new StagePlan(base, s.steps, s.key, s.config, s.args, s.history, s.sourceStages, epoch);
    }

    private DockerfileException error(Instruction ins, String detail) {
        return new DockerfileException(in.fileName(), ins.line(), Optional.of(ins.keyword()), detail);
    }

    /** The build state while walking one stage. */
    private final class State {
        final Stage stage;
        final ImageConfigEditor config;
        final Map<String, String> env;
        /** The stage's ARGs; a stage built FROM an earlier stage starts with that stage's. */
        final ArgScope args;

        final List<Step> steps = new ArrayList<>();
        final List<History> history = new ArrayList<>();
        final Set<Integer> sourceStages = new HashSet<>();

        int filesystemSteps;
        String key;
        boolean cmdSetHere;
        /**
         * This build's history entries are dated when planned, or with SOURCE_DATE_EPOCH; the
         * time is kept out of every cache key.
         */
        final String created;

        State(Stage stage, StageBase base, Optional<Instant> epoch) {
            this.stage = stage;
            this.config = base.config().copy();
            this.env = config.env();
            this.args = base.args().map(ArgScope::copy).orElseGet(() -> new ArgScope(in::buildArg, in.globalArgs()));
            this.created = epoch.orElseGet(Instant::now)
                    .truncatedTo(ChronoUnit.SECONDS)
                    .toString();
            // layers made with an epoch have clamped mtimes: they must not be mistaken for others
            this.key = epoch.isEmpty()
                    ? base.key()
                    : CacheKey.of("source-date-epoch")
                            .add(base.key())
                            .add(epoch.get().toString())
                            .build();
            this.history.addAll(base.history());
            countSteps(List.of());
        }

        void countSteps(List<Instruction> triggers) {
            filesystemSteps = (int) Stream.concat(triggers.stream(), stage.instructions().stream())
                    .filter(i -> i instanceof Instruction.Run
                            || i instanceof Instruction.Copy
                            || i instanceof Instruction.Workdir)
                    .count();
        }

        Optional<String> lookup(String name) {
            String v = env.get(name);
            return v != null ? Optional.of(v) : args.value(name);
        }

        String expand(String word) throws InvalidValueException {
            return ShellWords.expand(word, this::lookup, in.escape());
        }

        List<String> words(String text) throws InvalidValueException {
            return ShellWords.expandWords(text, this::lookup, in.escape());
        }

        void apply(Instruction ins)
                throws InvalidValueException, ContextIndex.MissingSourceException, DockerfileException {
            switch (ins) {
                case Instruction.Arg a -> {
                    // history shows each ARG with the value in effect: --build-arg, default or global
                    List<String> shown = new ArrayList<>();
                    for (ArgDef def : a.args()) {
                        Optional<String> value = args.declare(def, this::lookup, in.escape());
                        shown.add(def.name() + value.map(v -> "=" + v).orElse(""));
                    }
                    configOnly(ins, "ARG " + String.join(" ", shown));
                }
                case Instruction.Env e -> {
                    // every value is expanded with the environment from before this ENV
                    Map<String, String> updates = new LinkedHashMap<>();
                    for (KeyValue kv : e.vars()) {
                        updates.put(kv.key(), expand(kv.value()));
                    }
                    env.putAll(updates);
                    config.setEnv(env);
                    configOnly(
                            ins,
                            "ENV "
                                    + String.join(
                                            " ",
                                            updates.entrySet().stream()
                                                    .map(x -> x.getKey() + "=" + x.getValue())
                                                    .toList()));
                }
                case Instruction.Workdir w -> {
                    String dir = absolute(expand(w.path()));
                    config.setWorkdir(dir);
                    if (dir.equals("/")) {
                        configOnly(ins, "WORKDIR /"); // the root always exists: BuildKit makes no layer
                        break;
                    }
                    // BuildKit creates the directory as the current USER
                    key = CacheKey.of("workdir")
                            .add(key)
                            .add(dir)
                            .add(config.user())
                            .build();
                    addStep(
                            ins,
                            "WORKDIR " + dir,
                            Step.newBuilder()
                                    .setMkdir(MkdirOp.newBuilder().setPath(dir).setUser(config.user())),
                            "WORKDIR " + dir);
                }
                case Instruction.Copy c -> copy(c);
                case Instruction.Run r -> run(r);
                case Instruction.Expose e -> {
                    TreeSet<String> ports = new TreeSet<>();
                    for (String p : e.ports()) {
                        for (String w : words(p)) {
                            ports.addAll(Ports.parse(w));
                        }
                    }
                    ports.forEach(config::addExposedPort);
                    // Go prints the map of this instruction's ports with its keys sorted
                    configOnly(
                            ins,
                            "EXPOSE map["
                                    + String.join(
                                            " ",
                                            ports.stream().map(p -> p + ":{}").toList()) + "]");
                }
                case Instruction.Cmd c -> {
                    List<String> cmd = c.execForm() ? c.args() : shellForm(c.command());
                    config.setCmd(cmd);
                    config.setArgsEscaped(); // BuildKit sets it on every CMD, for Docker's sake
                    cmdSetHere = true;
                    configOnly(ins, "CMD " + HistoryText.goQuotedList(cmd));
                }
                case Instruction.Entrypoint e -> {
                    List<String> entrypoint = e.execForm() ? e.args() : shellForm(e.command());
                    config.setEntrypoint(entrypoint);
                    if (!cmdSetHere) {
                        config.clearCmd(); // an inherited CMD does not survive a new ENTRYPOINT
                    }
                    configOnly(ins, "ENTRYPOINT " + HistoryText.goQuotedList(entrypoint));
                }
                case Instruction.User u -> {
                    config.setUser(expand(u.user()));
                    configOnly(ins, "USER " + config.user());
                }
                case Instruction.Label l -> {
                    StringBuilder shown = new StringBuilder("LABEL");
                    for (KeyValue kv : l.labels()) {
                        String k = expand(kv.key());
                        String v = expand(kv.value());
                        config.putLabel(k, v);
                        shown.append(' ').append(k).append('=').append(v);
                    }
                    configOnly(ins, shown.toString());
                }
                case Instruction.Shell sh -> {
                    config.setShell(sh.shell());
                    configOnly(ins, "SHELL " + HistoryText.goList(sh.shell()));
                }
                case Instruction.Volume v -> {
                    List<String> paths = new ArrayList<>();
                    for (String p : v.paths()) {
                        String path = expand(p);
                        if (path.isBlank()) {
                            throw new InvalidValueException("VOLUME specified can not be an empty string");
                        }
                        paths.add(path);
                        config.addVolume(path);
                    }
                    configOnly(ins, "VOLUME " + HistoryText.goList(paths));
                }
                case Instruction.StopSignal sig -> {
                    config.setStopSignal(expand(sig.signal()));
                    configOnly(ins, "STOPSIGNAL " + expand(sig.signal()));
                }
                case Instruction.Healthcheck h -> {
                    config.setHealthcheck(
                            h.test(), h.interval(), h.timeout(), h.startPeriod(), h.startInterval(), h.retries());
                    configOnly(
                            ins,
                            HistoryText.healthcheck(
                                    h.test(),
                                    h.interval(),
                                    h.timeout(),
                                    h.startPeriod(),
                                    h.startInterval(),
                                    h.retries()));
                }
                case Instruction.Onbuild o -> {
                    // BuildKit records the trigger in the config only: no history entry
                    config.addOnBuild(o.expression());
                }
                case Instruction.Maintainer m -> {
                    config.putAuthor(m.name());
                    configOnly(ins, "MAINTAINER " + m.name());
                }
                case Instruction.From f -> throw error(ins, "FROM inside a stage (the parser splits stages)");
            }
        }

        private void copy(Instruction.Copy c)
                throws InvalidValueException, ContextIndex.MissingSourceException, DockerfileException {
            Map<String, byte[]> inline = new LinkedHashMap<>();
            List<String> sources = new ArrayList<>();
            List<String> shownSources = new ArrayList<>();
            for (String src : c.sources()) {
                Optional<Heredoc> doc = Heredocs.named(src, c.heredocs());
                if (doc.isPresent()) {
                    Heredoc h = doc.get();
                    String body = h.expand() ? ShellWords.expandHeredoc(h.content(), this::lookup) : h.content();
                    inline.put(h.name(), body.getBytes(StandardCharsets.UTF_8));
                    sources.add(h.name());
                    shownSources.add("<<" + h.name());
                } else {
                    String expanded = expand(src);
                    sources.add(expanded);
                    shownSources.add(expanded);
                }
            }
            if (!inline.isEmpty() && inline.size() != sources.size()) {
                throw new InvalidValueException("a COPY with a heredoc cannot also copy files: split it in two COPYs");
            }
            String dest = expand(c.dest());
            Optional<String> chown =
                    c.chown().isPresent() ? Optional.of(expand(c.chown().get())) : Optional.empty();
            Optional<dev.stagefarm.dockerfile.Chmod> mode = c.chmod().isPresent()
                    ? Optional.of(dev.stagefarm.dockerfile.Chmod.parse(
                            expand(c.chmod().get())))
                    : Optional.empty();
            Optional<String> chmod = mode.map(dev.stagefarm.dockerfile.Chmod::text);
            List<String> excludes = new ArrayList<>();
            for (String e : c.excludes()) {
                excludes.add(expand(e));
            }
            // --link gives the same files here; it is keyed so that a cache entry says what it was built with
            CacheKey k = CacheKey.of(c.add() ? "add" : "copy")
                    .add(key)
                    .add(sources)
                    .add(dest)
                    .add(config.workdir())
                    .add(chown.orElse(""))
                    .add(chmod.orElse(""))
                    .add(excludes)
                    .add(c.parents())
                    .add(c.link());
            CopyOp.Builder op = CopyOp.newBuilder()
                    .addAllSources(sources)
                    .setDest(dest)
                    .setCwd(config.workdir())
                    .setChown(chown.orElse(""))
                    .setChmod(chmod.orElse(""))
                    .setExtractArchives(c.add())
                    .addAllExcludes(excludes)
                    .setParents(c.parents())
                    .setLink(c.link());
            mode.ifPresent(m -> op.setMode(Chmod.toProto(m)));
            String from = c.from().isPresent() ? expand(c.from().get()) : null;
            if (!inline.isEmpty()) {
                InlineSource.Builder files = InlineSource.newBuilder();
                inline.forEach((name, bytes) -> {
                    files.putFiles(name, ByteString.copyFrom(bytes));
                    k.add(name).add(Digest.of(bytes).toString());
                });
                op.setSource(CopySource.newBuilder().setInline(files)).setExtractArchives(false);
            } else if (from == null && sources.stream().anyMatch(StagePlanner::isUrl)) {
                if (!c.add()) {
                    throw new InvalidValueException("source can't be a URL for COPY: use ADD");
                }
                if (sources.size() != 1) {
                    throw new InvalidValueException("ADD of a URL takes one source per instruction");
                }
                Optional<String> checksum = c.checksum().isPresent()
                        ? Optional.of(expand(c.checksum().get()))
                        : Optional.empty();
                if (checksum.isPresent() && !checksum.get().matches("sha256:[0-9a-f]{64}")) {
                    throw new InvalidValueException(
                            "--checksum=" + checksum.get() + ": expected sha256: followed by 64 lower-case hex digits");
                }
                // with a checksum the content is known; without one BuildKit also fetches and keys on
                // what it got, but here the key is the URL: a changed resource needs --no-cache
                k.add("url").add(checksum.orElse(sources.getFirst()));
                op.setSource(CopySource.newBuilder()
                                .setUrl(UrlSource.newBuilder()
                                        .setUrl(sources.getFirst())
                                        .setChecksum(checksum.orElse(""))))
                        .setExtractArchives(false);
            } else if (c.checksum().isPresent()) {
                throw new InvalidValueException("--checksum can only be used with an http(s) URL source");
            } else if (in.context().copyContext(from).isPresent()) { // the context, or --build-context NAME=DIR
                List<String> matching = new ArrayList<>();
                for (String src : sources) {
                    List<ContextEntry> selected =
                            in.context().copyContext(from).get().select(src);
                    ContextIndex.addTo(k.add(src), ContextIndex.excluding(selected, src, excludes));
                    if (!selected.isEmpty()) {
                        matching.add(src);
                    }
                }
                // a wildcard that matches nothing is left out, so the worker never sees it; as in
                // BuildKit, "COPY a nomatch-* /d" then copies a to the file /d
                op.clearSources().addAllSources(matching).setSource(in.context().copySource(from));
            } else {
                OptionalInt ref = in.stageIndex(from);
                if (ref.isPresent()) {
                    StageSource source = in.stageSource(ref.getAsInt(), sources);
                    sourceStages.add(ref.getAsInt());
                    // keyed on the copied files, not their mtimes: a rebuilt stage that yields the same files hits
                    k.addCopiedFrom(source.getArtifact());
                    op.setSource(CopySource.newBuilder().setStage(source));
                } else {
                    ImageSource image = in.image(from)
                            .orElseThrow(() -> new InvalidValueException(
                                    "--from=" + from + " names no earlier stage, and images cannot be resolved here"));
                    k.add("image");
                    image.getLayersList().forEach(l -> k.add(l.getDigest()));
                    op.setSource(CopySource.newBuilder().setImage(image));
                }
            }
            key = k.build();
            String what = (c.add() ? "ADD " : "COPY ") + (from == null ? "" : "--from=" + from + " ")
                    + String.join(" ", shownSources) + " " + dest;
            // BuildKit's history: --parents, --chown, --chmod (not --from), files, heredocs, destination
            StringBuilder createdBy = new StringBuilder(c.add() ? "ADD" : "COPY");
            if (c.parents()) {
                createdBy.append(" --parents");
            }
            chown.ifPresent(v -> createdBy.append(" --chown=").append(v));
            chmod.ifPresent(v -> createdBy.append(" --chmod=").append(v));
            shownSources.stream()
                    .filter(x -> !x.startsWith("<<"))
                    .forEach(x -> createdBy.append(' ').append(x));
            shownSources.stream()
                    .filter(x -> x.startsWith("<<"))
                    .forEach(x -> createdBy.append(' ').append(x));
            createdBy.append(' ').append(dest).append(" # buildkit");
            addStep(c, what, Step.newBuilder().setCopy(op), createdBy.toString());
        }

        private void run(Instruction.Run r) throws InvalidValueException, ContextIndex.MissingSourceException {
            String network = r.network().isPresent() ? expand(r.network().get()) : "default";
            if (!List.of("default", "none", "host").contains(network)) {
                throw new InvalidValueException("--network=" + network + ": expected default, none or host");
            }
            if (r.security().filter(x -> x.equals("insecure")).isPresent()) {
                // BuildKit also refuses it unless the builder grants the security.insecure entitlement
                throw new InvalidValueException("--security=insecure is not allowed: stagefarm runs every RUN"
                        + " with the default confinement");
            }
            RunOp.Builder op = RunOp.newBuilder();
            List<String> argv;
            String shown;
            if (r.execForm()) {
                argv = r.args();
                shown = HistoryText.json(argv);
            } else if (r.heredocs().isEmpty()) {
                argv = shellForm(r.command());
                shown = r.command();
            } else {
                Heredocs.Run run = Heredocs.run(r, config.shell());
                argv = run.argv();
                run.script().ifPresent(op::addMounts);
                shown = r.command() + " ("
                        + Heredocs.summary(r.heredocs().getFirst().content()) + ")";
            }
            // ARG values reach RUN as environment variables; ENV wins over an ARG of the same name
            Map<String, String> runEnv = new TreeMap<>(args.values());
            runEnv.putAll(env);
            List<String> envList = new ArrayList<>();
            runEnv.forEach((k, v) -> envList.add(k + "=" + v));
            CacheKey k = CacheKey.of("run")
                    .add(key)
                    .add(argv)
                    .add(envList)
                    .add(config.workdir())
                    .add(config.user())
                    .add(network);
            op.getMountsList()
                    .forEach(m -> k.add("script")
                            .add(m.getTarget())
                            .add(Digest.of(m.getFile().getContent().toByteArray())
                                    .toString()));
            MountPlanner mounts = new MountPlanner(in, sourceStages);
            for (RunMount m : r.mounts()) {
                op.addMounts(mounts.plan(expand(m.raw()), config.workdir(), k));
            }
            // BuildKit points SSH_AUTH_SOCK at the first ssh mount unless the step sets it itself
            op.getMountsList().stream()
                    .filter(dev.stagefarm.proto.farm.RunMount::hasSsh)
                    .findFirst()
                    .filter(m -> !runEnv.containsKey("SSH_AUTH_SOCK"))
                    .ifPresent(m -> {
                        envList.add("SSH_AUTH_SOCK=" + m.getTarget());
                        k.add("env").add("SSH_AUTH_SOCK=" + m.getTarget());
                    });
            key = k.build();
            addStep(
                    r,
                    "RUN " + shown,
                    Step.newBuilder()
                            .setRun(op.addAllArgs(argv)
                                    .addAllEnv(envList)
                                    .setCwd(config.workdir())
                                    .setUser(config.user())
                                    .setNetwork(network)),
                    "RUN " + runCommandString(argv) + " # buildkit");
        }

        /** BuildKit's runCommandString: the stage's ARGs, as {@code |N k=v ...}, before the command. */
        private String runCommandString(List<String> argv) {
            List<String> parts = new ArrayList<>();
            if (!args.declared().isEmpty()) {
                parts.add("|" + args.declared().size());
                args.declared().forEach(k -> parts.add(k + "=" + lookup(k).orElse("")));
            }
            parts.addAll(argv);
            return String.join(" ", parts);
        }

        private void addStep(Instruction ins, String what, Step.Builder step, String createdBy) {
            int index = steps.size();
            step.setKey(key)
                    .setLine(ins.line())
                    .setDescription(
                            "[" + stage.displayName() + " " + (index + 2) + "/" + (filesystemSteps + 1) + "] " + what);
            steps.add(step.build());
            history.add(History.newBuilder()
                    .setCreatedBy(createdBy)
                    .setCreated(created)
                    .setComment(COMMENT)
                    .setStepIndex(index)
                    .build());
        }

        private void configOnly(Instruction ins, String createdBy) {
            history.add(History.newBuilder()
                    .setCreatedBy(createdBy)
                    .setCreated(created)
                    .setEmptyLayer(true)
                    .setComment(COMMENT)
                    .setStepIndex(-1)
                    .build());
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

    static boolean isUrl(String source) {
        return source.startsWith("http://") || source.startsWith("https://");
    }

    /** Expands with build args and global ARGs only, as FROM lines are. */
    public static Function<String, Optional<String>> globalLookup(Map<String, String> globals) {
        return name -> Optional.ofNullable(globals.get(name));
    }
}
