package dev.stagefarm.worker;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.oci.registry.TeamRegistries;
import dev.stagefarm.proto.farm.WorkerStatus;
import dev.stagefarm.worker.agent.WorkerAgent;
import dev.stagefarm.worker.baseimage.LayerLimits;
import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.exec.ExecException;
import dev.stagefarm.worker.exec.RuncExecutor;
import dev.stagefarm.worker.exec.StepLimits;
import dev.stagefarm.worker.job.JobRunner;
import dev.stagefarm.worker.job.WorkerMetrics;
import dev.stagefarm.worker.job.WorkerParts;
import dev.stagefarm.worker.kube.PodDeletionCost;
import dev.stagefarm.worker.net.Cidr;
import dev.stagefarm.worker.net.CniNetwork;
import dev.stagefarm.worker.net.FarmEndpoints;
import dev.stagefarm.worker.net.NetworkOptions;
import dev.stagefarm.worker.ops.InputLimits;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A worker process: its stores under {@code root}, its session with the coordinator, its cache client. */
public final class WorkerNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerNode.class);

    /**
     * How a worker is started; every field has a command-line flag. Made with {@link #builder}, which
     * gives every field past the first six its default.
     */
    public record Config(
            String name,
            String coordinator,
            String cache,
            Path root,
            RegistryConfig registries,
            int slots,
            ClientSecurity security,
            NetworkOptions network,
            Path runc,
            StepLimits limits,
            long maxLocalSize,
            InputLimits inputs,
            Path teamRegistryAuth,
            LayerLimits baseImages) {

        /** A farm without tokens or TLS, steps with the default network, sandbox and limits. */
        public static Builder builder(
                String name, String coordinator, String cache, Path root, RegistryConfig registries, int slots) {
            return new Builder(name, coordinator, cache, root, registries, slots);
        }

        /** A builder holding this config's fields, to change some of them. */
        public Builder toBuilder() {
            return new Builder(name, coordinator, cache, root, registries, slots)
                    .security(security)
                    .network(network)
                    .sandbox(runc, limits)
                    .maxLocalSize(maxLocalSize)
                    .inputs(inputs)
                    .teamRegistryAuth(teamRegistryAuth)
                    .baseImageLimits(baseImages);
        }

        /** The optional fields of a {@link Config}, each with its default until set. */
        public static final class Builder {
            private final String name;
            private final String coordinator;
            private final String cache;
            private final Path root;
            private final RegistryConfig registries;
            private final int slots;
            private ClientSecurity security = ClientSecurity.NONE;
            private NetworkOptions network = NetworkOptions.defaults();
            private Path runc;
            private StepLimits limits = StepLimits.DEFAULTS;
            private long maxLocalSize;
            private InputLimits inputs = InputLimits.DEFAULTS;
            private Path teamRegistryAuth;
            private LayerLimits baseImages = LayerLimits.DEFAULTS;

            private Builder(
                    String name, String coordinator, String cache, Path root, RegistryConfig registries, int slots) {
                this.name = name;
                this.coordinator = coordinator;
                this.cache = cache;
                this.root = root;
                this.registries = registries;
                this.slots = slots;
            }

            /** @param clientSecurity the token and TLS the worker reaches the farm with */
            public Builder security(ClientSecurity clientSecurity) {
                this.security = clientSecurity;
                return this;
            }

            /** @param options what steps' network may reach */
            public Builder network(NetworkOptions options) {
                this.network = options;
                return this;
            }

            /** @param binary the runc binary; null finds it on PATH */
            public Builder sandbox(Path binary, StepLimits stepLimits) {
                this.runc = binary;
                this.limits = stepLimits;
                return this;
            }

            /** @param bytes the most the worker keeps under its root ({@code --max-local-size}); 0 for no limit */
            public Builder maxLocalSize(long bytes) {
                this.maxLocalSize = bytes;
                return this;
            }

            /** @param limits what ADD may fetch and unpack ({@code --max-fetch-size}, {@code --allow-fetch}, ...) */
            public Builder inputs(InputLimits limits) {
                this.inputs = limits;
                return this;
            }

            /**
             * @param dir one Docker config.json per team ({@code TEAM.json}): a team's base layers are
             *     pulled with its own credentials, over the worker's; null: every team uses the worker's
             */
            public Builder teamRegistryAuth(Path dir) {
                this.teamRegistryAuth = dir;
                return this;
            }

            /** @param limits how big a base image's layers may be, pulled and unpacked ({@code --max-layer-size}, ...) */
            public Builder baseImageLimits(LayerLimits limits) {
                this.baseImages = limits;
                return this;
            }

            public Config build() {
                return new Config(
                        name,
                        coordinator,
                        cache,
                        root,
                        registries,
                        slots,
                        security,
                        network,
                        runc,
                        limits,
                        maxLocalSize,
                        inputs,
                        teamRegistryAuth,
                        baseImages);
            }
        }
    }

    private final ManagedChannel coordinatorChannel;
    private final ManagedChannel cacheChannel;
    private final CacheClient cache;
    private final WorkerAgent agent;
    private final RegistryClient registry;
    private final TeamRegistries teamRegistries;
    private final CniNetwork network;
    private final Optional<PodDeletionCost> deletionCost;

    public WorkerNode(Config config, MeterRegistry meters) throws IOException {
        Path root = Files.createDirectories(config.root()).toRealPath();
        // blobs, snapshots and runc state of every team's builds: for the worker's eyes only
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        // The worker's farm token, acting for the team of the job running on the calling thread
        // (JobRunner sets it). With a token, a cache call outside a job fails instead of landing
        // in the farm token's own namespace, which every team's jobs would share.
        this.cacheChannel = GrpcChannels.open(config.cache(), config.security());
        this.cache = new CacheClient(
                TeamChannel.fromContext(cacheChannel, config.security().token() != null),
                cacheChannel::resetConnectBackoff);
        // kept from steps and from ADD's fetches alike
        List<Cidr> refused = FarmEndpoints.refused(config.network().deny(), config.coordinator(), config.cache());
        RuncExecutor runc;
        try {
            this.network = CniNetwork.open(new CniNetwork.Config(
                    config.network().cniPlugins(),
                    root.toString(),
                    refused,
                    config.network().allowsHost(),
                    config.network().poolSize(),
                    Path.of("/etc/resolv.conf"),
                    CniNetwork.Config.RUN_DIR));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting", e);
        } catch (IOException e) {
            throw new IOException("worker " + config.name() + ": cannot give steps a network: " + e.getMessage(), e);
        }
        try {
            RuncExecutor.Config runcConfig = RuncExecutor.Config.defaults(root).withLimits(config.limits());
            runc = RuncExecutor.open(config.runc() == null ? runcConfig : runcConfig.withRunc(config.runc()), network);
        } catch (ExecException e) {
            network.close();
            throw new IOException("worker " + config.name() + ": runc is not usable: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            network.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting", e);
        }
        OverlaySnapshotter snapshots = OverlaySnapshotter.open(root.resolve("snapshots"));
        CredentialStore credentials = CredentialStore.fromDockerConfig();
        this.registry = new RegistryClient(config.registries(), credentials);
        this.teamRegistries = config.teamRegistryAuth() == null
                ? TeamRegistries.farmOnly(registry)
                : TeamRegistries.fromDirectory(config.teamRegistryAuth(), config.registries(), credentials, registry);
        this.coordinatorChannel = GrpcChannels.open(config.coordinator(), config.security(), true);
        DiskBudget disk = new DiskBudget(config.maxLocalSize(), meters, config.name());
        JobRunner runner = WorkerParts.jobRunner(
                config.name(),
                root,
                snapshots,
                runc,
                cache,
                teamRegistries,
                new WorkerMetrics(meters),
                coordinatorChannel,
                disk,
                config.inputs().withDenyFetch(refused),
                config.baseImages());
        this.agent = new WorkerAgent(
                config.name(), config.slots(), config.network().allow(), coordinatorChannel, runner, runc.warnings());
        agent.reportHoldings(disk.holdings());
        agent.reportStatus(() -> WorkerStatus.newBuilder()
                .setLocalDiskUsedBytes(disk.used())
                .setLocalDiskBudgetBytes(disk.budget())
                .build());
        // in a pod: scale-in removes idle, empty workers first (deploy/README.md, "Scaling")
        this.deletionCost =
                PodDeletionCost.inThisPod(config.name(), () -> PodDeletionCost.of(agent.runningJobs(), disk.used()));
        log.info(
                "worker {}: root {}, coordinator {}, cache {}, local disk {} of {}",
                config.name(),
                root,
                config.coordinator(),
                config.cache(),
                Units.formatSize(disk.used()),
                disk.budget() > 0 ? "--max-local-size " + Units.formatSize(disk.budget()) : "no --max-local-size");
    }

    /** See {@link WorkerAgent#drain}. */
    public boolean drain(Duration timeout) throws InterruptedException {
        return agent.drain(timeout);
    }

    /** See {@link WorkerAgent#awaitStores}. */
    public boolean awaitStores(Duration timeout) throws InterruptedException {
        return agent.awaitStores(timeout);
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
        deletionCost.ifPresent(PodDeletionCost::close);
        agent.close();
        // let the session's last messages (results, its end) reach the coordinator
        coordinatorChannel.shutdown();
        if (!coordinatorChannel.awaitTermination(5, TimeUnit.SECONDS)) {
            coordinatorChannel.shutdownNow();
        }
        cache.close();
        cacheChannel.shutdownNow();
        teamRegistries.close();
        registry.close();
        network.close();
    }
}
