package dev.stagefarm.cli.commands;

import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.BuildContextSpec;
import dev.stagefarm.cli.build.EmbeddedFarm;
import dev.stagefarm.cli.build.FarmChannels;
import dev.stagefarm.cli.build.LocalFarm;
import dev.stagefarm.cli.build.OutputSpec;
import dev.stagefarm.cli.build.SecretSpec;
import dev.stagefarm.cli.build.SshSpec;
import dev.stagefarm.cli.progress.Displays;
import dev.stagefarm.common.net.HostPort;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "build",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Build an image from a Dockerfile, spreading its stages over the farm's workers.",
            "Without --coordinator it uses the local farm (stagefarm farm start) when one runs, and otherwise runs the",
            "embedded farm (cache-server, coordinator, two workers) in this process."
        })
public final class BuildCommand implements Callable<Integer> {

    /** Thrown instead of starting an embedded farm in a process that must not hold one (the resident client). */
    public static final class NeedsOwnProcess extends RuntimeException {
        NeedsOwnProcess() {
            super("the embedded farm runs in a process of its own", null, false, false);
        }
    }

    /** The caller's environment: this process's, or a thin start's when the resident client runs the build. */
    private final Map<String, String> env;

    private final boolean mayEmbedFarm;

    private final FarmChannels channels;

    public BuildCommand() {
        this(System.getenv(), true);
    }

    /** A build for a caller with environment {@code env}; {@code mayEmbedFarm} false: never run the farm here. */
    public BuildCommand(Map<String, String> env, boolean mayEmbedFarm) {
        this(env, mayEmbedFarm, FarmChannels.perBuild());
    }

    /** As above, with the farm's connections from {@code channels} (the resident client keeps them). */
    public BuildCommand(Map<String, String> env, boolean mayEmbedFarm, FarmChannels channels) {
        this.env = env;
        this.mayEmbedFarm = mayEmbedFarm;
        this.channels = channels;
    }

    @Parameters(index = "0", paramLabel = "CONTEXT", description = "The build context directory.")
    Path context;

    @Option(
            names = {"-f", "--file"},
            paramLabel = "FILE",
            description = "The Dockerfile (default: CONTEXT/Dockerfile).")
    Path file;

    @Option(
            names = {"-t", "--tag"},
            paramLabel = "REF",
            description = "Name the image (repeatable).")
    List<String> tags = new ArrayList<>();

    @Option(names = "--target", paramLabel = "STAGE", description = "Build this stage and what it needs, no more.")
    String target;

    @Option(names = "--build-arg", paramLabel = "K=V", description = "Set a build-time variable (repeatable).")
    List<String> buildArgs = new ArrayList<>();

    @Option(
            names = {"-o", "--output"},
            paramLabel = "SPEC",
            description = "type=docker[,dest=PATH] | type=oci,dest=PATH | type=image,name=REF,push=true"
                    + " | type=local,dest=DIR | type=tar,dest=FILE (repeatable). type=docker without dest loads"
                    + " into the Docker engine at $DOCKER_HOST.")
    List<String> outputs = new ArrayList<>();

    @Option(names = "--push", description = "Push the image to every -t name (--output type=registry).")
    boolean push;

    @Option(
            names = "--load",
            description = "Load the image into the Docker engine at $DOCKER_HOST (default: "
                    + "unix:///var/run/docker.sock), as --output type=docker.")
    boolean load;

    @Option(names = "--iidfile", paramLabel = "FILE", description = "Write the image ID (its config digest) to FILE.")
    Path iidFile;

    @Option(
            names = {"-q", "--quiet"},
            description = "Print nothing but the image ID on stdout (errors still go to stderr).")
    boolean quiet;

    @Option(
            names = "--build-context",
            paramLabel = "NAME=PATH|docker-image://REF",
            description = "A further context: FROM NAME and COPY --from=NAME use this directory or image"
                    + " instead of a stage or image of that name (repeatable).")
    List<String> buildContexts = new ArrayList<>();

    @Option(names = "--metadata-file", paramLabel = "PATH", description = "Write the build result's metadata as JSON.")
    Path metadataFile;

    @Option(
            names = "--progress",
            defaultValue = "auto",
            paramLabel = "auto|tty|plain|quiet|rawjson",
            description = "Progress output: tty redraws each step in place (auto: tty on a terminal, else plain),"
                    + " quiet shows only errors, rawjson one JSON event per line (default: ${DEFAULT-VALUE}).")
    String progress;

    @Option(
            names = "--trace",
            paramLabel = "FILE",
            description = "Write the build as a Chrome trace (open it in Perfetto): a track per worker, a slice per"
                    + " step, queue waits and transfers.")
    Path trace;

    @Option(names = "--no-cache", description = "Run every step, whatever the cache holds.")
    boolean noCache;

    @Option(names = "--label", paramLabel = "K=V", description = "Set an image label (repeatable).")
    List<String> labels = new ArrayList<>();

    @Option(
            names = "--no-cache-filter",
            paramLabel = "STAGE",
            split = ",",
            description = "Run these stages' steps whatever the cache holds (repeatable, comma-separated).")
    List<String> noCacheFilter = new ArrayList<>();

    @Option(names = "--platform", paramLabel = "OS/ARCH", description = "Target platform; only linux/amd64 today.")
    String platform;

    @Option(names = "--pull", description = "Resolve every FROM against its registry (stagefarm always does).")
    boolean pull;

    @Option(
            names = "--secret",
            paramLabel = "id=ID,src=PATH|env=VAR",
            description = "Expose a secret to RUN --mount=type=secret (repeatable). Never stored or logged.")
    List<String> secrets = new ArrayList<>();

    @Option(
            names = "--ssh",
            paramLabel = "default|ID[=SOCKET|KEY[,KEY]]",
            description =
                    "Forward an SSH agent (or keys) to RUN --mount=type=ssh (repeatable). Keys never leave this machine.")
    List<String> ssh = new ArrayList<>();

    @Option(
            names = "--allow",
            paramLabel = "ENTITLEMENT",
            description = "Ask for an entitlement the farm's workers must grant too (worker --allow): network.host"
                    + " for RUN --network=host (repeatable). The embedded farm's workers grant what the build asks.")
    Set<String> allow = new LinkedHashSet<>();

    @Option(
            names = "--allow-fetch",
            paramLabel = "HOST:PORT",
            description =
                    "The embedded farm's workers let ADD fetch from this endpoint although it is loopback,"
                            + " link-local or private, e.g. a local file server (repeatable). A farm of its own"
                            + " (--coordinator, the local farm) takes it from its operator: worker or farm start --allow-fetch.")
    List<String> allowFetch = new ArrayList<>();

    @Option(
            names = "--coordinator",
            paramLabel = "HOST:PORT",
            description = "Use this farm instead of the embedded one.")
    String coordinator;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description = "Run the embedded farm in this process with this state, even when a local farm runs "
                    + "(default: the local farm, else $STAGEFARM_DATA or /var/lib/stagefarm).")
    Path data;

    @Option(
            names = "--workers",
            defaultValue = "2",
            description = "Workers in the embedded farm (default: ${DEFAULT-VALUE}).")
    int embeddedWorkers;

    @Mixin
    RegistryOptions registries;

    /** The user's token (and TLS) for the farm given with --coordinator; the embedded farm is open. */
    @Mixin
    ClientAuthOptions auth;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(context)) {
            System.err.println("error: build context " + context + " is not a directory");
            return 1;
        }
        Path dockerfile = file != null ? file : context.resolve("Dockerfile");
        if (!Files.isRegularFile(dockerfile)) {
            System.err.println("error: no Dockerfile at " + dockerfile + " (name one with -f)");
            return 1;
        }
        Displays.check(progress);
        List<OutputSpec> specs = OutputSpec.resolve(outputs, tags, push, load);
        List<BuildContextSpec> contexts = BuildContextSpec.parseAll(buildContexts);
        for (BuildContextSpec c : contexts) {
            if (c.directory().isPresent() && !Files.isDirectory(c.directory().get())) {
                System.err.println("error: --build-context " + c.name() + "="
                        + c.directory().get() + ": not a directory (give a directory or docker-image://REF)");
                return 1;
            }
        }
        BuildClient.Request request = new BuildClient.Request(
                context,
                dockerfile,
                tags,
                target == null ? "" : target,
                keyValues(buildArgs, "--build-arg"),
                keyValues(labels, "--label"),
                specs,
                metadataFile,
                noCache,
                registries.config(),
                noCacheFilter,
                platform == null ? "" : platform,
                pull,
                SecretSpec.readAll(secrets),
                SshSpec.parseAll(ssh, env),
                allow,
                iidFile,
                quiet,
                contexts);
        for (String e : allow) {
            if (!e.equals("network.host")) {
                System.err.println("error: --allow " + e + ": the only entitlement is network.host");
                return 1;
            }
        }
        // -q: buildx's quiet progress, and only the image ID on stdout
        BuildClient client = quiet
                ? new BuildClient(
                        new PrintStream(OutputStream.nullOutputStream()),
                        System.err,
                        System.out,
                        "quiet",
                        trace,
                        channels)
                : new BuildClient(System.out, System.err, System.out, progress, trace, channels);
        List<HostPort> fetchable = InputLimitsOptions.endpoints(allowFetch);
        if (coordinator != null) {
            warnAllowFetchUnused();
            return client.build(coordinator, auth.security(), request);
        }
        if (data == null) {
            Optional<String> local = LocalFarm.running(LocalFarm.socketDir(env));
            if (local.isPresent()) {
                warnAllowFetchUnused();
                return client.build(local.get(), request);
            }
        }
        if (!mayEmbedFarm) {
            throw new NeedsOwnProcess();
        }
        Path dataDir = data != null ? data : Path.of(env.getOrDefault("STAGEFARM_DATA", "/var/lib/stagefarm"));
        try (EmbeddedFarm farm = EmbeddedFarm.start(dataDir, embeddedWorkers, registries.config(), allow, fetchable)) {
            return client.build(farm.coordinatorAddress(), request);
        } catch (EmbeddedFarm.FarmBusyException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    private void warnAllowFetchUnused() {
        if (!allowFetch.isEmpty()) {
            System.err.println("warning: --allow-fetch applies to the embedded farm only; this farm's operator"
                    + " grants it with worker --allow-fetch or farm start --allow-fetch");
        }
    }

    private Map<String, String> keyValues(List<String> pairs, String flag) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                // buildx takes "--build-arg NAME" to mean: the value of NAME in this environment
                String fromEnv = env.get(pair);
                if (eq < 0 && fromEnv != null) {
                    out.put(pair, fromEnv);
                    continue;
                }
                throw new IllegalArgumentException(flag + " " + pair + ": expected KEY=VALUE");
            }
            out.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return out;
    }
}
