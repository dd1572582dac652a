package dev.stagefarm.coordinator;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.oci.registry.RegistryClient;
import io.grpc.Server;
import io.micrometer.core.instrument.MeterRegistry;
import io.grpc.ServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator process: worker sessions, build submissions, scheduling. It holds no layer
 * bytes; everything it knows of content comes from the cache-server.
 */
public final class CoordinatorServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CoordinatorServer.class);

    private final Server server;
    private final JobDispatcher dispatcher;
    private final HealthStatusManager health = new HealthStatusManager();

    /**
     * @param serverBuilder where to listen (tests pass an in-process builder)
     * @param cache the cache-server this coordinator plans against
     * @param cacheAddress that cache-server's address as clients reach it
     * @param registry resolves FROM images
     * @param meters where the coordinator's metrics go (a Prometheus registry in the launcher)
     */
    public CoordinatorServer(ServerBuilder<?> serverBuilder, CacheClient cache, String cacheAddress,
                             RegistryClient registry, Duration workerWait, MeterRegistry meters) {
        WorkerPool pool = new WorkerPool();
        FarmMetrics metrics = new FarmMetrics(meters, pool);
        this.dispatcher = new JobDispatcher(pool, workerWait, metrics);
        BuildRunner builds = new BuildRunner(cache, new RegistryBaseResolver(registry), dispatcher, metrics);
        this.server = serverBuilder
            .addService(new CoordinatorService(pool, dispatcher, builds, cacheAddress))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build();
    }

    public CoordinatorServer start() throws IOException {
        log.info("coordinator: no --tokens file: accepting every caller (builds and workers)");
        server.start();
        log.info("coordinator listening on port {}", server.getPort());
        return this;
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
