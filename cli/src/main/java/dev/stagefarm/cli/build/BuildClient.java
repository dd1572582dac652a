package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cli.context.ContextScanner;
import dev.stagefarm.cli.context.DockerIgnore;
import dev.stagefarm.cli.progress.BuildDisplay;
import dev.stagefarm.cli.progress.ChromeTrace;
import dev.stagefarm.cli.progress.Displays;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.FarmInfoRequest;
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
            java.util.Set<String> entitlements) {

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
                    java.util.Set.of());
        }
    }

    private final PrintStream out;
    private final PrintStream err;
    private final String progress;
    private final Path trace;

    public BuildClient(PrintStream out, PrintStream err) {
        this(out, err, "plain", null);
    }

    /**
     * @param progress a {@code --progress} mode (see {@link Displays})
     * @param trace where to write the build's Chrome trace, or null
     */
    public BuildClient(PrintStream out, PrintStream err, String progress, Path trace) {
        this.out = out;
        this.err = err;
        this.progress = Displays.check(progress);
        this.trace = trace;
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
        try (BuildDisplay display = Displays.open(progress, out, err)) {
            try {
                var coordinator = CoordinatorGrpc.newBlockingStub(channel);
                String cacheAddress = coordinator
                        .getFarmInfo(FarmInfoRequest.getDefaultInstance())
                        .getCacheAddress();
                try (CacheClient cache = CacheClient.connect(cacheAddress, security)) {
                    Digest contextDigest = uploadContext(cache, req, display.info());
                    BuildRequest.Builder submit = submission(req, contextDigest);
                    if (!req.ssh().isEmpty()) {
                        String session = java.util.UUID.randomUUID().toString();
                        agents = AgentForwarder.start(channel, session, req.ssh());
                        submit.setSessionId(session);
                        req.ssh().forEach(s -> submit.addSshIds(s.id()));
                    }
                    return run(coordinator, submit.build(), cache, req, display);
                }
            } catch (StatusRuntimeException e) {
                display.error(FarmErrors.describe(coordinatorAddress, e));
                return 1;
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
            closeQuietly(channel);
        }
    }

    /**
     * Waits for the channel to end before the launcher stops the client event loop: a channel
     * still retrying an unreachable farm would otherwise schedule its next attempt on a stopped
     * loop, and gRPC prints that as a "Panic!" stack trace under the one-line error.
     */
    private static void closeQuietly(ManagedChannel channel) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static BuildRequest.Builder submission(Request req, Digest contextDigest) throws IOException {
        BuildRequest.Builder submit = BuildRequest.newBuilder()
                .setDockerfile(Files.readString(req.dockerfile()))
                .setDockerfileName(req.dockerfile().getFileName().toString())
                .setContextDigest(contextDigest.toString())
                .putAllBuildArgs(req.buildArgs())
                .setTarget(req.target())
                .setWantImage(true)
                .setNoCache(req.noCache())
                .putAllLabels(req.labels())
                .addAllNoCacheStages(req.noCacheStages())
                .setPlatform(req.platform())
                .setPull(req.pull())
                .addAllEntitlements(req.entitlements().stream().sorted().toList());
        req.secrets().forEach((id, value) -> submit.putSecrets(id, com.google.protobuf.ByteString.copyFrom(value)));
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
        Iterator<BuildEvent> events = coordinator.build(submit);
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
            display.info().println("image " + result.getImage().getManifestDigest());
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

    private static Digest uploadContext(CacheClient cache, Request req, PrintStream out) throws IOException {
        long t0 = System.nanoTime();
        ContextScanner.ScannedContext ctx =
                new ContextScanner(DockerIgnore.forBuild(req.context(), req.dockerfile())).scan(req.context());
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
                "#0 context: %d entries, %.1f MB, %d blobs sent (%.1f MB) in %.2fs%n",
                ctx.manifest().getEntriesCount(),
                ctx.totalBytes() / 1e6,
                missing.size(),
                sent / 1e6,
                (System.nanoTime() - t0) / 1e9);
        return digest;
    }
}
