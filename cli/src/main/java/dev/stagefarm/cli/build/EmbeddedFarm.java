package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.UnixSockets;
import dev.stagefarm.coordinator.CoordinatorServer;
import dev.stagefarm.coordinator.schedule.PendingStores;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.worker.WorkerNode;
import dev.stagefarm.worker.net.NetworkOptions;
import dev.stagefarm.worker.ops.InputLimits;
import io.grpc.ServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A whole farm in one process: a cache-server, a coordinator and workers, talking gRPC to each
 * other as separate processes would. {@link #start} wires them with gRPC's in-process transport
 * for one build (the CLI's default driver); {@link #serve} puts them on Unix sockets as the
 * long-lived local farm that later builds reach ({@code stagefarm farm}). State lives in
 * {@code dataDir} and persists between builds, so the second build of a context is answered
 * from the cache.
 */
public final class EmbeddedFarm implements AutoCloseable {

    /** The coordinator's socket in a local farm's socket directory; the cache-server's is beside it. */
    public static final String COORDINATOR_SOCKET = "farm.sock";

    static final String CACHE_SOCKET = "cache.sock";

    private final CacheServer cacheServer;
    private final CacheClient coordinatorCache;
    private final CoordinatorServer coordinator;
    private final RegistryClient coordinatorRegistry;
    private final String coordinatorAddress;
    private final List<CompletableFuture<WorkerNode>> workers = new ArrayList<>();
    private final FileChannel lockFile;

    private EmbeddedFarm(
            Path dataDir,
            int workerCount,
            RegistryConfig registries,
            Addresses addresses,
            MeterRegistry meters,
            Set<String> workerEntitlements,
            List<HostPort> allowFetch)
            throws IOException {
        lockFile = lock(dataDir);
        cacheServer = new CacheServer(
                        new CacheServerConfig(new HostPort("127.0.0.1", 0), dataDir.resolve("cache")),
                        meters,
                        addresses.cacheServer())
                .start();
        coordinatorCache = CacheClient.connect(addresses.cache());
        coordinatorRegistry = new RegistryClient(registries, CredentialStore.fromDockerConfig());
        coordinator = new CoordinatorServer(
                        addresses.coordinatorServer(),
                        coordinatorCache,
                        addresses.cache(),
                        coordinatorRegistry,
                        Duration.ofSeconds(30),
                        meters)
                .withWorkersStartingAlongside()
                .start();
        this.coordinatorAddress = addresses.coordinator();
        // Workers come up in the background: a build answered from the cache never waits for
        // them, and one that needs them waits only as long as the coordinator must anyway.
        for (int i = 1; i <= workerCount; i++) {
            String name = "w" + i;
            WorkerNode.Config config = WorkerNode.Config.builder(
                            name,
                            addresses.coordinator(),
                            addresses.cache(),
                            dataDir.resolve("workers").resolve(name),
                            registries,
                            2)
                    .network(NetworkOptions.defaults().withAllow(workerEntitlements))
                    .inputs(InputLimits.DEFAULTS.withAllowFetch(allowFetch))
                    .build();
            workers.add(CompletableFuture.supplyAsync(() -> startWorker(config, meters)));
        }
    }

    /** Where the parts listen and how they reach each other. */
    private record Addresses(
            String cache, ServerBuilder<?> cacheServer, String coordinator, ServerBuilder<?> coordinatorServer) {

        static Addresses inProcess() {
            // no sockets, no Netty start-up: the same gRPC services and clients
            String id = Long.toHexString(ProcessHandle.current().pid()) + "-" + Long.toHexString(System.nanoTime());
            String cache = "stagefarm-cache-" + id;
            String coordinator = "stagefarm-coordinator-" + id;
            return new Addresses(
                    GrpcChannels.IN_PROCESS + cache,
                    GrpcChannels.inProcessServer(cache),
                    GrpcChannels.IN_PROCESS + coordinator,
                    GrpcChannels.inProcessServer(coordinator));
        }

        static Addresses unix(Path socketDir) throws IOException {
            Path cache = socketDir.resolve(CACHE_SOCKET).toAbsolutePath();
            Path coordinator = socketDir.resolve(COORDINATOR_SOCKET).toAbsolutePath();
            return new Addresses(
                    GrpcChannels.UNIX + cache,
                    UnixSockets.server(cache),
                    GrpcChannels.UNIX + coordinator,
                    UnixSockets.server(coordinator));
        }
    }

    /**
     * One farm per data directory: its cache-server's RocksDB and its workers' snapshots cannot
     * be shared with another process. Held until {@link #close()}; the kernel drops it with the process.
     */
    private static FileChannel lock(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        FileChannel channel =
                FileChannel.open(dataDir.resolve("farm.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        if (channel.tryLock() == null) {
            channel.close();
            throw new FarmBusyException(dataDir);
        }
        return channel;
    }

    /** Another process runs a farm on the same data directory. */
    public static final class FarmBusyException extends IOException {
        FarmBusyException(Path dataDir) {
            super(
                    "another stagefarm process runs a farm on " + dataDir
                            + " (a build, or the local farm); wait for it, "
                            + "give this build its own --data, or run `stagefarm farm start` once so that builds share one farm");
        }
    }

    private static WorkerNode startWorker(WorkerNode.Config config, MeterRegistry meters) {
        try {
            return new WorkerNode(config, meters).start();
        } catch (IOException | RuntimeException e) {
            System.err.println("ERROR: embedded worker " + config.name() + " could not start: " + e.getMessage());
            throw new CompletionException(e);
        }
    }

    /** A farm for this process only, over the in-process transport. */
    public static EmbeddedFarm start(Path dataDir, int workers, RegistryConfig registries) throws IOException {
        return start(dataDir, workers, registries, Set.of(), List.of());
    }

    /**
     * A farm for one build, whose workers grant {@code entitlements}: the user who runs it is
     * its operator too, so a build's own {@code --allow} is enough here; {@code allowFetch} are the
     * workers' {@code --allow-fetch} endpoints.
     */
    public static EmbeddedFarm start(
            Path dataDir, int workers, RegistryConfig registries, Set<String> entitlements, List<HostPort> allowFetch)
            throws IOException {
        return new EmbeddedFarm(
                dataDir,
                workers,
                registries,
                Addresses.inProcess(),
                new SimpleMeterRegistry(),
                entitlements,
                allowFetch);
    }

    /**
     * A farm serving other processes on Unix sockets in {@code socketDir}
     * ({@value #COORDINATOR_SOCKET} for builds).
     */
    public static EmbeddedFarm serve(
            Path dataDir,
            int workers,
            RegistryConfig registries,
            Path socketDir,
            MeterRegistry meters,
            List<HostPort> allowFetch)
            throws IOException {
        return new EmbeddedFarm(dataDir, workers, registries, Addresses.unix(socketDir), meters, Set.of(), allowFetch);
    }

    public String coordinatorAddress() {
        return coordinatorAddress;
    }

    /** Blocks until every worker has started (or failed to); a served farm says it is ready after this. */
    public void awaitWorkers() {
        for (CompletableFuture<WorkerNode> w : workers) {
            try {
                w.join();
            } catch (CompletionException startFailed) {
                // already reported when it happened
            }
        }
    }

    /**
     * Closes the farm once its workers have stored the layers of jobs that reported before their
     * store ({@code Job.layers_unneeded}), as long as a build's lookup
     * waits for them ({@link PendingStores#MAX_WAIT}): the next build finds them cached.
     */
    @Override
    public void close() throws InterruptedException {
        long deadline = System.nanoTime() + PendingStores.MAX_WAIT.toNanos();
        for (CompletableFuture<WorkerNode> w : workers) {
            if (w.isDone() && !w.isCompletedExceptionally()) {
                w.join().awaitStores(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
        }
        for (CompletableFuture<WorkerNode> w : workers) {
            try {
                w.join().close();
            } catch (CompletionException startFailed) {
                // already reported when it happened
            }
        }
        coordinator.close();
        coordinatorRegistry.close();
        coordinatorCache.close();
        cacheServer.close();
        try {
            lockFile.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }
}
