package dev.stagefarm.cli.build;

import com.google.protobuf.ByteString;
import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cli.context.ContextScanner;
import dev.stagefarm.cli.context.DockerIgnore;
import dev.stagefarm.cli.progress.BuildDisplay;
import dev.stagefarm.cli.progress.ChromeTrace;
import dev.stagefarm.cli.progress.Displays;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.NamedContext;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The client side of a build: hashes the context, uploads only what the cache lacks, submits,
 * streams progress, and writes the outputs from the cache once the image is assembled.
 */
public final class BuildClient {

    /** Everything {@code stagefarm build} was asked for. */
    public record Request(
            Path context,
            Path dockerfile,
            List<String> tags,
            String target,
            Map<String, String> buildArgs,
            Map<String, String> labels,
            List<OutputSpec> outputs,
            Path metadataFile,
            boolean noCache,
            RegistryConfig registries,
            List<String> noCacheStages,
            String platform,
            boolean pull,
            Map<String, byte[]> secrets,
            List<SshSpec> ssh,
            Set<String> entitlements,
            Path iidFile,
            boolean quiet,
            List<BuildContextSpec> buildContexts) {

        /** A build of {@code context}'s Dockerfile as it is: no arguments, secrets or entitlements, one output. */
        public static Request plain(Path context, String tag, OutputSpec output, RegistryConfig registries) {
            return new Request(
                    context,
                    context.resolve("Dockerfile"),
                    List.of(tag),
                    "",
                    Map.of(),
                    Map.of(),
                    List.of(output),
                    null,
                    false,
                    registries,
                    List.of(),
                    "",
                    false,
                    Map.of(),
                    List.of(),
                    Set.of(),
                    null,
                    false,
                    List.of());
        }

        /** This request with {@code --build-arg} values. */
        public Request withBuildArgs(Map<String, String> args) {
            return new Request(
                    context,
                    dockerfile,
                    tags,
                    target,
                    Map.copyOf(args),
                    labels,
                    outputs,
                    metadataFile,
                    noCache,
                    registries,
                    noCacheStages,
                    platform,
                    pull,
                    secrets,
                    ssh,
                    entitlements,
                    iidFile,
                    quiet,
                    buildContexts);
        }
    }

    private final PrintStream out;
    private final PrintStream err;
    private final PrintStream imageIdOut;
    private final String progress;
    private final Path trace;
    private final FarmChannels channels;

    public BuildClient(PrintStream out, PrintStream err) {
        this(out, err, out, "plain", null);
    }

    /**
     * @param out progress and export lines
     * @param imageIdOut where {@code -q} prints the image id ({@code out} may then discard everything)
     * @param progress a {@code --progress} mode (see {@link Displays})
     * @param trace where to write the build's Chrome trace, or null
     */
    public BuildClient(PrintStream out, PrintStream err, PrintStream imageIdOut, String progress, Path trace) {
        this(out, err, imageIdOut, progress, trace, FarmChannels.perBuild());
    }

    /** As above, with the farm's connections from {@code channels} (the resident client keeps them). */
    public BuildClient(
            PrintStream out,
            PrintStream err,
            PrintStream imageIdOut,
            String progress,
            Path trace,
            FarmChannels channels) {
        this.out = out;
        this.err = err;
        this.imageIdOut = imageIdOut;
        this.progress = Displays.check(progress);
        this.trace = trace;
        this.channels = channels;
    }

    /** Runs the build; returns the process exit code. */
    public int build(String coordinatorAddress, Request req) throws IOException {
        return build(coordinatorAddress, ClientSecurity.NONE, req);
    }

    /**
     * Runs the build on the farm at {@code coordinatorAddress}, presenting the user's token (and
     * TLS) to the coordinator and to the cache-server it names; returns the process exit code.
     */
    public int build(String coordinatorAddress, ClientSecurity security, Request req) throws IOException {
        FarmChannels.Farm farm = channels.open(coordinatorAddress, security);
        AgentForwarder agents = null;
        try (BuildDisplay display = Displays.open(progress, out, err)) {
            try {
                var coordinator = CoordinatorGrpc.newBlockingStub(farm.coordinator());
                CacheClient cache = farm.cache();
                if (req.outputs().isEmpty()) {
                    // buildx's words: the user may well have expected an image somewhere
                    err.println("WARNING: No output specified. Build result will only remain in the build cache."
                            + " To push result image into registry use --push or to load image into docker use --load");
                }
                BuildRequest.Builder submit = submission(cache, req, display.info());
                if (!req.ssh().isEmpty()) {
                    String session = UUID.randomUUID().toString();
                    agents = AgentForwarder.start(farm.coordinator(), session, req.ssh());
                    submit.setSessionId(session);
                    req.ssh().forEach(s -> submit.addSshIds(s.id()));
                }
                return run(coordinator, submit.build(), cache, req, display);
            } catch (StatusRuntimeException e) {
                if (FarmChannels.unreachable(e)) {
                    farm.broken();
                }
                display.error(FarmErrors.describe(coordinatorAddress, e));
                return 1;
            } catch (IOException | RuntimeException e) {
                if (FarmChannels.unreachable(e)) {
                    farm.broken();
                }
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                display.error("interrupted");
                return 1;
            } finally {
                writeTrace(display);
            }
        } finally {
            if (agents != null) {
                agents.close();
            }
            farm.close();
        }
    }

    /** Uploads the context and the named directory contexts, then says what to build. */
    private static BuildRequest.Builder submission(CacheClient cache, Request req, PrintStream out) throws IOException {
        Digest contextDigest = uploadContext(
                        cache, "context", req.context(), DockerIgnore.forBuild(req.context(), req.dockerfile()), out)
                .digest();
        String dockerfile = Files.readString(req.dockerfile());
        List<NamedContext> named = new ArrayList<>();
        for (BuildContextSpec c : req.buildContexts()) {
            NamedContext.Builder n = NamedContext.newBuilder().setName(c.name());
            if (c.image().isPresent()) {
                n.setImage(c.image().get());
            } else {
                Path dir = c.directory().orElseThrow();
                // its own .dockerignore applies, as buildx reads one beside each local context
                Uploaded up = uploadContext(
                        cache, "context " + c.name(), dir, DockerIgnore.forBuild(dir, dir.resolve("Dockerfile")), out);
                n.setContextDigest(up.digest().toString());
                if (ContextLayer.isBase(
                        dockerfile, req.dockerfile().getFileName().toString(), c.name())) {
                    n.setBaseLayer(ContextLayer.upload(cache, dir, up.manifest()));
                }
            }
            named.add(n.build());
        }
        BuildRequest.Builder submit = BuildRequest.newBuilder()
                .setDockerfile(dockerfile)
                .setDockerfileName(req.dockerfile().getFileName().toString())
                .setContextDigest(contextDigest.toString())
                .addAllNamedContexts(named)
                .putAllBuildArgs(req.buildArgs())
                .setTarget(req.target())
                .setWantImage(true)
                .setNoCache(req.noCache())
                .putAllLabels(req.labels())
                .addAllNoCacheStages(req.noCacheStages())
                .setPlatform(req.platform())
                .setPull(req.pull())
                .addAllEntitlements(req.entitlements().stream().sorted().toList());
        req.secrets().forEach((id, value) -> submit.putSecrets(id, ByteString.copyFrom(value)));
        return submit;
    }

    /** Follows the build's events to its result, then writes the outputs. */
    private int run(
            CoordinatorGrpc.CoordinatorBlockingStub coordinator,
            BuildRequest submit,
            CacheClient cache,
            Request req,
            BuildDisplay display)
            throws IOException, InterruptedException {
        BuildResult result = null;
        Iterator<BuildEvent> events = new ResubmittingEvents(coordinator, submit, display.info());
        while (events.hasNext()) {
            BuildEvent e = events.next();
            switch (e.getKindCase()) {
                case RESULT -> result = e.getResult();
                case ERROR -> {
                    display.endEvents();
                    display.error(e.getError().getMessage());
                    return 1;
                }
                default -> display.event(e);
            }
        }
        display.endEvents();
        if (result == null) {
            display.error("the coordinator ended the build without a result");
            return 1;
        }
        new Exporter(cache, req.registries(), display.info()).export(result, req.tags(), req.outputs());
        if (req.metadataFile() != null) {
            MetadataFile.write(req.metadataFile(), result, req.tags());
        }
        if (result.hasImage()) {
            ImageId.report(result.getImage(), req.iidFile(), req.quiet() ? imageIdOut : null);
            if (!req.quiet()) {
                display.info().println("image " + result.getImage().getManifestDigest());
            }
        }
        display.summary(result);
        return 0;
    }

    private void writeTrace(BuildDisplay display) {
        if (trace == null) {
            return;
        }
        try {
            ChromeTrace.write(trace, display.timeline(), System.nanoTime());
        } catch (IOException e) {
            err.println("error: cannot write the trace to " + trace + ": " + e.getMessage());
        }
    }

    private record Uploaded(Digest digest, ContextManifest manifest) {}

    private static Uploaded uploadContext(
            CacheClient cache, String what, Path dir, DockerIgnore ignore, PrintStream out) throws IOException {
        long t0 = System.nanoTime();
        ContextScanner.ScannedContext ctx = new ContextScanner(ignore).scan(dir);
        byte[] manifest = ctx.manifest().toByteArray();
        Digest digest = Digest.of(manifest);
        // one question for the files and the manifest: an unchanged context costs one round trip
        Set<Digest> ask = new LinkedHashSet<>(ctx.files().keySet());
        ask.add(digest);
        Set<Digest> missing = cache.findMissing(ask);
        Map<Digest, Path> send = new LinkedHashMap<>();
        long sent = 0;
        for (Digest d : missing) {
            Path f = ctx.files().get(d);
            if (f != null) {
                send.put(d, f);
                sent += Files.size(f);
            }
        }
        cache.uploadAll(send);
        if (missing.contains(digest)) {
            cache.upload(manifest);
        }
        out.printf(
                "#0 %s: %d entries, %.1f MB, %d blobs sent (%.1f MB) in %.2fs%n",
                what,
                ctx.manifest().getEntriesCount(),
                ctx.totalBytes() / 1e6,
                send.size(),
                sent / 1e6,
                (System.nanoTime() - t0) / 1e9);
        return new Uploaded(digest, ctx.manifest());
    }
}
