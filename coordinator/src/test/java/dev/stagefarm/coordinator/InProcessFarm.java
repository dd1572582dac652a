package dev.stagefarm.coordinator;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.BearerToken;
import dev.stagefarm.common.auth.ReloadingTokens;
import dev.stagefarm.common.auth.Tokens;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real cache-server and a real coordinator service talking gRPC in-process, for tests that
 * play the workers and clients themselves ({@link FakeWorker}). With a tokens file both servers
 * authenticate, and the coordinator reaches the cache with {@code farmToken}.
 */
final class InProcessFarm implements AutoCloseable {

    private final CacheServer cache;
    private final ManagedChannel cacheChannel;
    private final CoordinatorServer coordinator;
    private final ManagedChannel channel;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private InProcessFarm(Path dir, Duration workerWait, Path tokens, String farmToken) throws Exception {
        String cacheName = InProcessServerBuilder.generateName();
        cache = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dir.resolve("cache"), 0, tokens),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(cacheName))
                .start();
        cacheChannel = InProcessChannelBuilder.forName(cacheName).build();
        String name = InProcessServerBuilder.generateName();
        coordinator = new CoordinatorServer(
                        InProcessServerBuilder.forName(name),
                        new CacheClient(farmToken == null ? cacheChannel : as(cacheChannel, farmToken)),
                        "cache",
                        new RegistryClient(RegistryConfig.defaults(), CredentialStore.none()),
                        workerWait,
                        meters,
                        tokens == null ? null : ReloadingTokens.open(tokens, Clock.systemUTC()))
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    /** A farm that accepts every caller; a build waits {@code workerWait} for a first worker (zero: for ever). */
    static InProcessFarm open(Path dir, Duration workerWait) throws Exception {
        return new InProcessFarm(dir, workerWait, null, null);
    }

    static InProcessFarm open(Path dir) throws Exception {
        return open(dir, Duration.ofSeconds(20));
    }

    /** A farm that authenticates with {@code tokens}; {@code farmToken} is the coordinator's own. */
    static InProcessFarm withTokens(Path dir, Path tokens, String farmToken) throws Exception {
        return new InProcessFarm(dir, Duration.ofSeconds(20), tokens, farmToken);
    }

    /** The coordinator's server, for what tests start beside it (its web view). */
    CoordinatorServer server() {
        return coordinator;
    }

    /** Jobs of every team waiting in the coordinator's queue, as its {@code stagefarm_jobs_queued} gauges say. */
    int jobsQueued() {
        return (int) meters.find("stagefarm.jobs.queued").gauges().stream()
                .mapToDouble(Gauge::value)
                .sum();
    }

    /** Builds submitted and not yet ended, as the coordinator's {@code stagefarm_builds_in_progress} gauges say. */
    int buildsInProgress() {
        return (int) meters.find("stagefarm.builds.in.progress").gauges().stream()
                .mapToDouble(Gauge::value)
                .sum();
    }

    /** The cache-server, as a worker of an anonymous farm writes to it. */
    CacheClient cache() {
        return new CacheClient(cacheChannel);
    }

    /** The coordinator, as an anonymous caller. */
    Channel channel() {
        return channel;
    }

    /** The coordinator, as the holder of {@code token}. */
    Channel channel(String token) {
        return as(channel, token);
    }

    /**
     * Uploads a context of one file {@code a} ("hello") as {@code token}'s team (null:
     * anonymously) and returns its manifest's digest, as the CLI sends it.
     */
    String uploadContext(String token) throws Exception {
        CacheClient client = new CacheClient(token == null ? cacheChannel : as(cacheChannel, token));
        byte[] file = "hello\n".getBytes(StandardCharsets.UTF_8);
        Digest fileDigest = client.upload(file);
        ContextManifest manifest = ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath("a")
                        .setType(ContextEntry.Type.FILE)
                        .setMode(0644)
                        .setSize(file.length)
                        .setDigest(fileDigest.toString()))
                .build();
        return client.upload(manifest.toByteArray()).toString();
    }

    String uploadContext() throws Exception {
        return uploadContext(null);
    }

    /** A build of {@code dockerfile} over {@code context} that wants its image. */
    static BuildRequest request(String dockerfile, String context) {
        return BuildRequest.newBuilder()
                .setDockerfile(dockerfile)
                .setDockerfileName("Dockerfile")
                .setContextDigest(context)
                .setWantImage(true)
                .build();
    }

    /**
     * Runs a build in the background as {@code token} (null: anonymously); completes with its
     * error message, or "" when it ends without one.
     */
    CompletableFuture<String> submit(String token, BuildRequest request) {
        return submit(token, request, e -> {});
    }

    /** As {@link #submit(String, BuildRequest)}, handing each event the client reads to {@code client}. */
    CompletableFuture<String> submit(String token, BuildRequest request, Consumer<BuildEvent> client) {
        Channel caller = token == null ? channel : as(channel, token);
        return CompletableFuture.supplyAsync(() -> {
            Iterator<BuildEvent> events =
                    CoordinatorGrpc.newBlockingStub(caller).build(request);
            while (events.hasNext()) {
                BuildEvent e = events.next();
                client.accept(e);
                if (e.hasError()) {
                    return e.getError().getMessage();
                }
            }
            return "";
        });
    }

    /** {@code channel} with {@code token} on every call, as the real BearerToken credentials send it. */
    static Channel as(Channel channel, String token) {
        BearerToken credentials = BearerToken.of(token);
        return ClientInterceptors.intercept(channel, new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                    MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return next.newCall(method, options.withCallCredentials(credentials));
            }
        });
    }

    /** One entry of a tokens file; {@code scopes} is a JSON list's inside, e.g. {@code "read","write"}. */
    static String tokenEntry(String name, String team, String scopes, String token) {
        return "{\"name\": \"" + name + "\", \"team\": \"" + team + "\", \"scopes\": [" + scopes + "], \"sha256\": \""
                + HexFormat.of().formatHex(Tokens.sha256(token)) + "\"}";
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        coordinator.close();
        cacheChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        cache.close();
    }
}
