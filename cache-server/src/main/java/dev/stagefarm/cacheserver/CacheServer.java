package dev.stagefarm.cacheserver;

import dev.stagefarm.cacheserver.dataport.DataPort;
import dev.stagefarm.cacheserver.dataport.DataPortLimits;
import dev.stagefarm.cacheserver.dataport.ReadTickets;
import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.cacheserver.mounts.CacheMountService;
import dev.stagefarm.cacheserver.mounts.MountMetrics;
import dev.stagefarm.cacheserver.mounts.MountStore;
import dev.stagefarm.cacheserver.mounts.MountUses;
import dev.stagefarm.cacheserver.service.ActionCacheService;
import dev.stagefarm.cacheserver.service.CacheAdminService;
import dev.stagefarm.cacheserver.service.CacheScopes;
import dev.stagefarm.cacheserver.service.CallerStores;
import dev.stagefarm.cacheserver.service.ContentStoreService;
import dev.stagefarm.cacheserver.service.ReadsOnTransportThread;
import dev.stagefarm.cacheserver.service.RequestTimer;
import dev.stagefarm.cacheserver.store.MountHeads;
import dev.stagefarm.cacheserver.store.Namespace;
import dev.stagefarm.cacheserver.store.RocksStore;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.cacheserver.store.StoreOptions;
import dev.stagefarm.common.auth.AuthInterceptor;
import dev.stagefarm.common.auth.InvalidTokensException;
import dev.stagefarm.common.auth.ReloadingTokens;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.ServerTls;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache-server process: the ContentStore and ActionCache services over one RocksDB
 * store, plus gRPC health and reflection. The caller chooses the transport by passing a
 * {@link ServerBuilder} ({@link GrpcServers#netty} in production, in-process in tests).
 */
public final class CacheServer implements AutoCloseable {

    /** Logged first on start, until callers are authenticated with a tokens file. */
    public static final String ANONYMOUS_ACCESS =
            "cache-server: no --tokens file: accepting every caller (anonymous read/write)";

    /** HTTP/2 receive window per stream: 8 chunks of an upload in flight. */
    static final int FLOW_CONTROL_WINDOW = 8 << 20;

    /** Interval and timeout of the server's pings to idle clients; a dead one is dropped within twice this. */
    static final Duration KEEPALIVE = Duration.ofSeconds(15);

    private static final Logger log = LoggerFactory.getLogger(CacheServer.class);

    private final CacheServerConfig config;
    private final MeterRegistry registry;
    private final ServerBuilder<?> builder;
    private final Clock clock;
    private final HealthStatusManager health = new HealthStatusManager();
    private RocksStore store;
    private CacheMetrics metrics;
    private MountMetrics mountMetrics;
    private Server server;
    private HostPort dataListen;
    private ServerTls dataTls = ServerTls.NONE;
    private DataPortLimits dataLimits = DataPortLimits.DEFAULTS;
    private DataPort dataPort;
    /** --team-quota TEAM=SIZE: bytes per team, before the tokens file's cache-quota. */
    private java.util.Map<String, Long> teamQuotas = java.util.Map.of();

    public CacheServer(CacheServerConfig config, MeterRegistry registry, ServerBuilder<?> builder) {
        this(config, registry, builder, Clock.systemUTC());
    }

    /** With the clock that stamps access times (tests move it to age blobs). */
    public CacheServer(CacheServerConfig config, MeterRegistry registry, ServerBuilder<?> builder, Clock clock) {
        this.config = config;
        this.registry = registry;
        this.builder = builder;
        this.clock = clock;
    }

    /**
     * Also serve large reads on a data port at {@code listen} (port 0: a free one), with the same
     * TLS as the gRPC port; see {@link DataPort}. Call before {@link #start()}.
     */
    public synchronized CacheServer withDataPort(HostPort listen, ServerTls tls) {
        return withDataPort(listen, tls, DataPortLimits.DEFAULTS);
    }

    /** As {@link #withDataPort(HostPort, ServerTls)}, with the data port's connection limits. */
    public synchronized CacheServer withDataPort(HostPort listen, ServerTls tls, DataPortLimits limits) {
        if (server != null) {
            throw new IllegalStateException("the data port is set before the cache-server starts");
        }
        this.dataListen = listen;
        this.dataTls = tls;
        this.dataLimits = limits;
        return this;
    }

    /**
     * Per-team cache quotas in bytes ({@code --team-quota}); a team named here ignores the tokens
     * file's {@code cache-quota}. Call before {@link #start()}.
     */
    public synchronized CacheServer withTeamQuotas(java.util.Map<String, Long> quotas) {
        this.teamQuotas = java.util.Map.copyOf(quotas);
        return this;
    }

    /** Opens the store and starts serving. */
    public synchronized CacheServer start() throws IOException {
        if (server != null) {
            throw new IllegalStateException("cache-server already started");
        }
        AuthInterceptor auth = null;
        ReloadingTokens tokens = null;
        if (config.tokensFile() == null) {
            log.warn(ANONYMOUS_ACCESS);
        } else {
            try {
                tokens = ReloadingTokens.open(config.tokensFile(), clock);
                auth = new AuthInterceptor("cache-server", tokens, CacheScopes.all());
            } catch (InvalidTokensException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
        try {
            store = RocksStore.open(
                    config.dataDir(),
                    StoreOptions.DEFAULTS
                            .withMaxBytes(config.maxBytes())
                            .withTeamQuotas(TeamQuotas.of(teamQuotas, tokens)),
                    clock);
        } catch (StoreException e) {
            throw new IOException(
                    "cache-server cannot open its store in " + config.dataDir() + ": " + e.getMessage(), e);
        }
        metrics = new CacheMetrics(registry);
        metrics.watch(store);
        RequestTimer timer = new RequestTimer(metrics);
        CallerStores stores = CallerStores.of(store);
        ReadTickets tickets = new ReadTickets(System::nanoTime);
        if (dataListen != null) {
            try {
                dataPort = DataPort.open(dataListen, dataTls, tickets, metrics, dataLimits);
            } catch (IOException e) {
                metrics.unwatch();
                store.close();
                throw e;
            }
        }
        ContentStoreService contentStore =
                new ContentStoreService(stores, metrics, builder instanceof NettyServerBuilder, dataPort, tickets);
        ActionCacheService actionCache = new ActionCacheService(stores, metrics);
        CacheAdminService admin = new CacheAdminService(stores, store::teams);
        mountMetrics = new MountMetrics(registry);
        MountUses mountUses = new MountUses();
        mountMetrics.watch(mountUses);
        CacheMountService mounts = new CacheMountService(
                new MountStore(team -> store.in(new Namespace(team)), new MountHeads(store), mountMetrics, clock),
                mountUses,
                mountMetrics);
        // Inbound messages keep gRPC's 4 MiB default: clients send 1 MiB chunks. A wider HTTP/2
        // window than Netty's 1 MiB lets an upload's next chunks travel while the store writes
        // this one, instead of the two taking turns.
        if (builder instanceof NettyServerBuilder netty) {
            netty.flowControlWindow(FLOW_CONTROL_WINDOW);
            netty.callExecutor(new ReadsOnTransportThread());
            // A cache-mount lease is an open Use stream: pinging clients finds a vanished machine
            // (no FIN, no RST) within ~30 s and cancels its calls, which frees its leases. Workers
            // ping too, so their pings must be allowed this often.
            netty.keepAliveTime(KEEPALIVE.toSeconds(), TimeUnit.SECONDS)
                    .keepAliveTimeout(KEEPALIVE.toSeconds(), TimeUnit.SECONDS)
                    .permitKeepAliveTime(5, TimeUnit.SECONDS)
                    .permitKeepAliveWithoutCalls(true);
        }
        if (auth != null) {
            // On the builder, not per service: every service, present and future, is covered,
            // and an RPC without a declared scope is refused (CacheScopes).
            builder.intercept(auth);
        }
        // added last, so it runs first: a peer of another protocol hears that, not an auth error
        builder.intercept(dev.stagefarm.common.version.VersionHeaders.server(
                "cache-server", dev.stagefarm.common.version.FarmVersion.CURRENT));
        server = builder.addService(ServerInterceptors.intercept(contentStore, timer))
                .addService(ServerInterceptors.intercept(actionCache, timer))
                .addService(ServerInterceptors.intercept(admin, timer))
                .addService(ServerInterceptors.intercept(mounts, timer))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build();
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            if (dataPort != null) {
                dataPort.close();
            }
            metrics.unwatch();
            mountMetrics.unwatch();
            store.close();
            throw e;
        }
        health.setStatus(contentStore.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
        health.setStatus(actionCache.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
        health.setStatus(admin.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
        health.setStatus(mounts.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
        log.info(
                "cache-server: serving on {} with data in {}{}{}",
                describeAddress(),
                config.dataDir(),
                dataPort == null ? "" : "; large reads on data port " + dataPort.port(),
                auth == null ? "" : "; callers authenticated with " + config.tokensFile());
        return this;
    }

    /** The TCP port served, or -1 for a transport without one (in-process). */
    public int port() {
        return server.getPort();
    }

    /** The data port, or -1 without one. */
    public int dataPort() {
        return dataPort == null ? -1 : dataPort.port();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Stops taking calls, lets running ones finish briefly, then closes the store. */
    @Override
    public synchronized void close() {
        if (server == null) {
            return;
        }
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            if (dataPort != null) {
                dataPort.close();
            }
            metrics.unwatch();
            mountMetrics.unwatch();
            store.close();
        }
    }

    private String describeAddress() {
        return server.getListenSockets().isEmpty() || server.getPort() < 0
                ? config.listen() + " (in-process)"
                : GrpcServers.boundAddress(server).toString();
    }
}
