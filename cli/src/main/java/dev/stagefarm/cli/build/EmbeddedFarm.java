package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.server.GrpcChannels;
import dev.stagefarm.common.server.HostPort;
import dev.stagefarm.coordinator.CoordinatorServer;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.worker.WorkerNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The default driver: a cache-server, a coordinator and workers in this one process, talking
 * gRPC to each other as separate processes would, over gRPC's in-process transport. State lives in {@code dataDir} and
 * persists between builds, so the second build of a context is answered from the cache.
 */
public final class EmbeddedFarm implements AutoCloseable {

    private final CacheServer cacheServer;
    private final CacheClient coordinatorCache;
    private final CoordinatorServer coordinator;
    private final String coordinatorAddress;
    private final List<CompletableFuture<WorkerNode>> workers = new ArrayList<>();

    private EmbeddedFarm(Path dataDir, int workerCount, RegistryConfig registries) throws IOException {
        // in-process transport: the same gRPC services and clients, no sockets, no Netty start-up
        String id = Long.toHexString(ProcessHandle.current().pid()) + "-" + Long.toHexString(System.nanoTime());
        String cacheAddress = GrpcChannels.IN_PROCESS + "stagefarm-cache-" + id;
        String coordinatorAddress = GrpcChannels.IN_PROCESS + "stagefarm-coordinator-" + id;
        cacheServer = new CacheServer(new CacheServerConfig(new HostPort("127.0.0.1", 0), dataDir.resolve("cache")),
            new SimpleMeterRegistry(), GrpcChannels.inProcessServer(name(cacheAddress))).start();
        coordinatorCache = CacheClient.connect(cacheAddress);
        coordinator = new CoordinatorServer(GrpcChannels.inProcessServer(name(coordinatorAddress)), coordinatorCache,
            cacheAddress, new RegistryClient(registries, CredentialStore.fromDockerConfig()), Duration.ofSeconds(30),
            new SimpleMeterRegistry()).start();
        this.coordinatorAddress = coordinatorAddress;
        // Workers come up in the background: a build answered from the cache never waits for
        // them, and one that needs them waits only as long as the coordinator must anyway.
        for (int i = 1; i <= workerCount; i++) {
            String name = "w" + i;
            WorkerNode.Config config = new WorkerNode.Config(name, coordinatorAddress, cacheAddress,
                dataDir.resolve("workers").resolve(name), registries, 2);
            workers.add(CompletableFuture.supplyAsync(() -> startWorker(config)));
        }
    }

    private static String name(String inProcessAddress) {
        return inProcessAddress.substring(GrpcChannels.IN_PROCESS.length());
    }

    private static WorkerNode startWorker(WorkerNode.Config config) {
        try {
            return new WorkerNode(config, new SimpleMeterRegistry()).start();
        } catch (IOException | RuntimeException e) {
            System.err.println("ERROR: embedded worker " + config.name() + " could not start: " + e.getMessage());
            throw new CompletionException(e);
        }
    }

    public static EmbeddedFarm start(Path dataDir, int workers, RegistryConfig registries) throws IOException {
        return new EmbeddedFarm(dataDir, workers, registries);
    }

    public String coordinatorAddress() {
        return coordinatorAddress;
    }

    @Override
    public void close() throws InterruptedException {
        for (CompletableFuture<WorkerNode> w : workers) {
            try {
                w.join().close();
            } catch (CompletionException startFailed) {
                // already reported when it happened
            }
        }
        coordinator.close();
        coordinatorCache.close();
        cacheServer.close();
    }
}
