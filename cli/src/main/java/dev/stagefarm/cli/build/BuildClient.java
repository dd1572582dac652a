package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cli.context.ContextScanner;
import dev.stagefarm.cli.context.DockerIgnore;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.FarmInfoRequest;
import dev.stagefarm.proto.farm.NamedContext;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
            java.util.Set<String> entitlements,
            Path iidFile,
            boolean quiet,
            List<BuildContextSpec> buildContexts) {

        /** A build asking for no entitlement. */
        public Request(
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
                List<SshSpec> ssh) {
            this(
                    context,
                    dockerfile,
                    tags,
                    target,
                    buildArgs,
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
                    java.util.Set.of(),
                    null,
                    false,
                    List.of());
        }
    }

    private final PrintStream out;
    private final PrintStream err;
    private final PrintStream imageIdOut;

    public BuildClient(PrintStream out, PrintStream err) {
        this(out, err, out);
    }

    /**
     * @param out progress and export lines
     * @param imageIdOut where {@code -q} prints the image id ({@code out} may then discard everything)
     */
    public BuildClient(PrintStream out, PrintStream err, PrintStream imageIdOut) {
        this.out = out;
        this.err = err;
        this.imageIdOut = imageIdOut;
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
        ManagedChannel channel = GrpcChannels.open(coordinatorAddress, security);
        AgentForwarder agents = null;
        try {
            var coordinator = CoordinatorGrpc.newBlockingStub(channel);
            String cacheAddress = coordinator
                    .getFarmInfo(FarmInfoRequest.getDefaultInstance())
                    .getCacheAddress();
            try (CacheClient cache = CacheClient.connect(cacheAddress, security)) {
                if (req.outputs().isEmpty()) {
                    // buildx's words: the user may well have expected an image somewhere
                    err.println("WARNING: No output specified. Build result will only remain in the build cache."
                            + " To push result image into registry use --push or to load image into docker use --load");
                }
                Digest contextDigest = uploadContext(
                                cache, "context", req.context(), DockerIgnore.forBuild(req.context(), req.dockerfile()))
                        .digest();
                String dockerfile = Files.readString(req.dockerfile());
                List<NamedContext> named = new java.util.ArrayList<>();
                for (BuildContextSpec c : req.buildContexts()) {
                    NamedContext.Builder n = NamedContext.newBuilder().setName(c.name());
                    if (c.image().isPresent()) {
                        n.setImage(c.image().get());
                    } else {
                        Path dir = c.directory().orElseThrow();
                        // its own .dockerignore applies, as buildx reads one beside each local context
                        Uploaded up = uploadContext(
                                cache,
                                "context " + c.name(),
                                dir,
                                DockerIgnore.forBuild(dir, dir.resolve("Dockerfile")));
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
                req.secrets()
                        .forEach((id, value) -> submit.putSecrets(id, com.google.protobuf.ByteString.copyFrom(value)));
                if (!req.ssh().isEmpty()) {
                    String session = java.util.UUID.randomUUID().toString();
                    agents = AgentForwarder.start(channel, session, req.ssh());
                    submit.setSessionId(session);
                    req.ssh().forEach(s -> submit.addSshIds(s.id()));
                }
                ProgressPrinter progress = new ProgressPrinter(out);
                BuildResult result = null;
                Iterator<BuildEvent> events = coordinator.build(submit.build());
                while (events.hasNext()) {
                    BuildEvent e = events.next();
                    switch (e.getKindCase()) {
                        case RESULT -> result = e.getResult();
                        case ERROR -> {
                            err.println("ERROR: " + e.getError().getMessage());
                            return 1;
                        }
                        default -> progress.accept(e);
                    }
                }
                if (result == null) {
                    err.println("ERROR: the coordinator ended the build without a result");
                    return 1;
                }
                new Exporter(cache, req.registries(), out).export(result, req.tags(), req.outputs());
                if (req.metadataFile() != null) {
                    MetadataFile.write(req.metadataFile(), result, req.tags());
                }
                if (result.hasImage()) {
                    ImageId.report(result.getImage(), req.iidFile(), req.quiet() ? imageIdOut : null);
                    if (!req.quiet()) {
                        out.println("image " + result.getImage().getManifestDigest());
                    }
                }
                return 0;
            }
        } catch (StatusRuntimeException e) {
            err.println("ERROR: farm at " + coordinatorAddress + " failed: "
                    + e.getStatus().getCode()
                    + (e.getStatus().getDescription() == null
                            ? ""
                            : ": " + e.getStatus().getDescription()));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("ERROR: interrupted");
            return 1;
        } finally {
            if (agents != null) {
                agents.close();
            }
            channel.shutdownNow();
        }
    }

    private record Uploaded(Digest digest, dev.stagefarm.proto.farm.ContextManifest manifest) {}

    private Uploaded uploadContext(CacheClient cache, String what, Path dir, DockerIgnore ignore) throws IOException {
        long t0 = System.nanoTime();
        ContextScanner.ScannedContext ctx = new ContextScanner(ignore).scan(dir);
        Set<Digest> missing = cache.findMissing(ctx.files().keySet());
        long sent = 0;
        for (Digest d : missing) {
            Path f = ctx.files().get(d);
            long size = Files.size(f);
            cache.upload(d, size, f);
            sent += size;
        }
        byte[] manifest = ctx.manifest().toByteArray();
        Digest digest = Digest.of(manifest);
        cache.upload(manifest);
        out.printf(
                "#0 %s: %d entries, %.1f MB, %d blobs sent (%.1f MB) in %.2fs%n",
                what,
                ctx.manifest().getEntriesCount(),
                ctx.totalBytes() / 1e6,
                missing.size(),
                sent / 1e6,
                (System.nanoTime() - t0) / 1e9);
        return new Uploaded(digest, ctx.manifest());
    }
}
