package dev.stagefarm.coordinator;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.auth.AuthInterceptor;
import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.common.auth.MethodScopes;
import dev.stagefarm.common.auth.TeamPolicy;
import dev.stagefarm.common.auth.Tokens;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.ServerTls;
import dev.stagefarm.common.version.FarmVersion;
import dev.stagefarm.common.version.VersionHeaders;
import dev.stagefarm.coordinator.builds.BuildBook;
import dev.stagefarm.coordinator.builds.BuildControl;
import dev.stagefarm.coordinator.plan.RegistryBaseResolver;
import dev.stagefarm.coordinator.schedule.JobDispatcher;
import dev.stagefarm.coordinator.schedule.Locality;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.SchedulerMetrics;
import dev.stagefarm.coordinator.schedule.StageTimings;
import dev.stagefarm.coordinator.schedule.WorkerPool;
import dev.stagefarm.coordinator.web.FarmView;
import dev.stagefarm.coordinator.web.FarmWebServer;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.TeamRegistries;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.ListWorkersResponse;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator process: worker sessions, build submissions, scheduling. It holds no layer
 * bytes; everything it knows of content comes from the cache-server.
 */
public final class CoordinatorServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CoordinatorServer.class);

    /** Logged first on start without a tokens file. */
    public static final String ANONYMOUS_ACCESS =
            "coordinator: no --tokens file: accepting every caller (builds and workers)";

    private final Server server;
    private final boolean authenticated;
    private final JobDispatcher dispatcher;
    private final HealthStatusManager health = new HealthStatusManager();
    private final BuildBook book = new BuildBook(InstantSource.system());
    private final CoordinatorService service;
    private final Supplier<Tokens> tokens;
    /** Each team's registry client (its own credentials over the farm's); the farm's for all until set. */
    private volatile TeamRegistries registries;

    /**
     * @param serverBuilder where to listen (tests pass an in-process builder)
     * @param cache the cache-server this coordinator plans against
     * @param cacheAddress that cache-server's address as clients reach it
     * @param registry resolves FROM images
     * @param meters where the coordinator's metrics go (a Prometheus registry in the launcher)
     */
    public CoordinatorServer(
            ServerBuilder<?> serverBuilder,
            CacheClient cache,
            String cacheAddress,
            RegistryClient registry,
            Duration workerWait,
            MeterRegistry meters) {
        this(serverBuilder, cache, cacheAddress, registry, workerWait, meters, null);
    }

    /**
     * @param tokens the --tokens file's tokens, or null to accept every caller. With tokens, a
     *               build runs in its submitter's team, and {@code cache} must hold a farm token
     *               (it acts for each build's team)
     */
    public CoordinatorServer(
            ServerBuilder<?> serverBuilder,
            CacheClient cache,
            String cacheAddress,
            RegistryClient registry,
            Duration workerWait,
            MeterRegistry meters,
            Supplier<Tokens> tokens) {
        this(serverBuilder, cache, cacheAddress, registry, workerWait, meters, tokens, Locality.DEFAULTS);
    }

    /** @param locality how long a job may wait for a worker holding more of its inputs ({@code --locality-*}) */
    public CoordinatorServer(
            ServerBuilder<?> serverBuilder,
            CacheClient cache,
            String cacheAddress,
            RegistryClient registry,
            Duration workerWait,
            MeterRegistry meters,
            Supplier<Tokens> tokens,
            Locality locality) {
        this.authenticated = tokens != null;
        if (tokens != null) {
            serverBuilder.intercept(new AuthInterceptor("coordinator", tokens, scopes()));
        }
        // requests, responses and latency of every RPC, as Micrometer's gRPC binder counts them
        serverBuilder.intercept(new MetricCollectingServerInterceptor(meters));
        // added last, so it runs first: a peer of another protocol hears that, not an auth error
        serverBuilder.intercept(VersionHeaders.server("coordinator", FarmVersion.CURRENT));
        WorkerPool pool = new WorkerPool();
        FarmMetrics metrics = new FarmMetrics(meters, pool);
        // the tokens file in effect gives each team its fair-share weight and its limit on builds
        Function<String, TeamPolicy> policies = tokens == null
                ? team -> TeamPolicy.DEFAULT
                : team -> tokens.get().policy(team);
        this.dispatcher = new JobDispatcher(
                pool,
                workerWait,
                new SchedulerMetrics(meters),
                new Scheduler(
                        InstantSource.system(), team -> policies.apply(team).weight(), locality));
        log.info(
                "locality: a job waits up to {} ms for a worker holding more of its inputs when that saves at least"
                        + " {} ms of transfer at {}/s; index bounds {} entries per worker, {} in all",
                locality.maxWait().toMillis(),
                locality.minSaving().toMillis(),
                Units.formatSize(locality.bytesPerSecond()),
                locality.perWorker(),
                locality.total());
        this.tokens = tokens;
        this.registries = TeamRegistries.farmOnly(registry);
        BuildRunner builds = new BuildRunner(
                cache,
                team -> new RegistryBaseResolver(
                        registries.forTeam(team), host -> registries.credentialsHint(team, host)),
                dispatcher,
                new StageTimings(InstantSource.system()),
                metrics,
                book);
        this.service = new CoordinatorService(
                pool,
                dispatcher,
                builds,
                cacheAddress,
                new BuildAdmission(policies),
                new BuildControl(book),
                metrics.clientPendingBytes);
        this.server = serverBuilder
                .addService(service)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build();
    }

    /**
     * For a farm whose workers start with it (the CLI's embedded farm): a build queued before
     * they connect is not told the farm has none.
     */
    public CoordinatorServer withWorkersStartingAlongside() {
        dispatcher.sayWhenNoWorkers(false);
        return this;
    }

    /** The scope each RPC needs: workers need a farm token, builds a token that may write. */
    private static MethodScopes scopes() {
        return MethodScopes.builder()
                .service(CoordinatorGrpc.SERVICE_NAME, Caller.Scope.READ)
                .method(CoordinatorGrpc.getConnectMethod().getFullMethodName(), Caller.Scope.FARM)
                .method(CoordinatorGrpc.getBuildMethod().getFullMethodName(), Caller.Scope.WRITE)
                .method(CoordinatorGrpc.getDrainWorkerMethod().getFullMethodName(), Caller.Scope.ADMIN)
                // CancelBuild: write in the build's own team, or admin; BuildControl checks both
                .service("grpc.reflection.v1.ServerReflection", Caller.Scope.READ)
                .open(HealthGrpc.SERVICE_NAME)
                .build();
    }

    /**
     * Pull each team's FROM images with that team's own registry credentials ({@code
     * --team-registry-auth}); teams without any use the farm's. Call before {@link #start()}.
     */
    public CoordinatorServer withTeamRegistries(TeamRegistries teams) {
        this.registries = teams;
        return this;
    }

    public CoordinatorServer start() throws IOException {
        if (!authenticated) {
            log.info(ANONYMOUS_ACCESS);
        }
        server.start();
        log.info("coordinator listening on port {}", server.getPort());
        return this;
    }

    /**
     * Serves the farm's read-only web page at {@code address} ({@code --ui}), with the same TLS
     * as the gRPC port and the same tokens.
     */
    public FarmWebServer serveUi(HostPort address, ServerTls tls) throws IOException {
        return FarmWebServer.start(address, tls, new FarmView(book, this::workers), tokens);
    }

    /** The workers as ListWorkers answers: the page shows whatever that message carries. */
    private ListWorkersResponse workers() {
        var reply = new AtomicReference<ListWorkersResponse>();
        service.listWorkers(ListWorkersRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(ListWorkersResponse value) {
                reply.set(value);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
        return reply.get() == null ? ListWorkersResponse.getDefaultInstance() : reply.get();
    }

    public int port() {
        return server.getPort();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        dispatcher.close();
        server.shutdownNow();
    }
}
