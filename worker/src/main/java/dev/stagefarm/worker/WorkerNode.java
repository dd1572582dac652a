package dev.stagefarm.worker;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.common.server.ClientSecurity;
import dev.stagefarm.common.server.GrpcChannels;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.worker.agent.WorkerAgent;
import dev.stagefarm.worker.exec.RuncExecutor;
import dev.stagefarm.worker.job.JobRunner;
import dev.stagefarm.worker.job.WorkerMetrics;
import dev.stagefarm.worker.job.WorkerParts;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A worker process: its stores under {@code root}, its session with the coordinator, its cache client. */
public final class WorkerNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerNode.class);

    /** How a worker is started; every field has a command-line flag. */
    public record Config(
            String name,
            String coordinator,
            String cache,
            Path root,
            RegistryConfig registries,
            int slots,
            ClientSecurity security) {

        /** A farm without tokens or TLS. */
        public Config(String name, String coordinator, String cache, Path root, RegistryConfig registries, int slots) {
            this(name, coordinator, cache, root, registries, slots, ClientSecurity.NONE);
        }
    }

    private final ManagedChannel coordinatorChannel;
    private final ManagedChannel cacheChannel;
    private final CacheClient cache;
    private final WorkerAgent agent;
    private final RegistryClient registry;

    public WorkerNode(Config config, MeterRegistry meters) throws IOException {
        Path root = Files.createDirectories(config.root()).toRealPath();
        // The worker's farm token, acting for the team of the job running on the calling thread
        // (JobRunner sets it). With a token, a cache call outside a job fails instead of landing
        // in the farm token's own namespace, which every team's jobs would share.
        this.cacheChannel = GrpcChannels.open(config.cache(), config.security());
        this.cache = new CacheClient(
                TeamChannel.fromContext(cacheChannel, config.security().token() != null));
        RuncExecutor runc;
        try {
            runc = RuncExecutor.open(RuncExecutor.Config.defaults(root));
        } catch (dev.stagefarm.worker.exec.ExecException e) {
            throw new IOException("worker " + config.name() + ": runc is not usable: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting", e);
        }
        OverlaySnapshotter snapshots = OverlaySnapshotter.open(root.resolve("snapshots"));
        this.registry = new RegistryClient(config.registries(), CredentialStore.fromDockerConfig());
        this.coordinatorChannel = GrpcChannels.open(config.coordinator(), config.security(), true);
        JobRunner runner = WorkerParts.jobRunner(
                config.name(), root, snapshots, runc, cache, registry, new WorkerMetrics(meters), coordinatorChannel);
        this.agent = new WorkerAgent(config.name(), config.slots(), coordinatorChannel, runner);
        log.info(
                "worker {}: root {}, coordinator {}, cache {}",
                config.name(),
                root,
                config.coordinator(),
                config.cache());
    }

    /** See {@link WorkerAgent#drain}. */
    public boolean drain(java.time.Duration timeout) throws InterruptedException {
        return agent.drain(timeout);
    }

    /** Runs {@code action} when the coordinator asks this worker to drain. */
    public void onDrainRequested(Runnable action) {
        agent.onDrainRequested(action);
    }

    public WorkerNode start() {
        agent.start();
        return this;
    }

    @Override
    public void close() throws InterruptedException {
        agent.close();
        // let the session's last messages (results, its end) reach the coordinator
        coordinatorChannel.shutdown();
        if (!coordinatorChannel.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) {
            coordinatorChannel.shutdownNow();
        }
        cache.close();
        cacheChannel.shutdownNow();
        registry.close();
    }
}
