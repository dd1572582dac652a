package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.server.MetricsEndpoint;
import dev.stagefarm.worker.WorkerNode;
import dev.stagefarm.worker.baseimage.LayerLimits;
import dev.stagefarm.worker.net.Cidr;
import dev.stagefarm.worker.net.NetworkOptions;
import dev.stagefarm.worker.ops.InputLimits;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

@Command(
        name = "worker",
        mixinStandardHelpOptions = true,
        description = "Run build steps in runc containers on overlayfs, for the coordinator it connects to.")
public final class WorkerCommand implements Callable<Integer> {

    @Option(names = "--coordinator", required = true, description = "The coordinator, HOST:PORT.")
    String coordinator;

    @Option(names = "--cache", required = true, description = "The cache-server, HOST:PORT.")
    String cache;

    @Option(names = "--root", required = true, description = "Directory for snapshots, blobs and runc state.")
    Path root;

    @Option(names = "--name", required = true, description = "This worker's name, unique in the farm.")
    String name;

    @Option(names = "--slots", defaultValue = "2", description = "Jobs run at once (default: ${DEFAULT-VALUE}).")
    int slots;

    @Option(
            names = "--deny-net",
            paramLabel = "CIDR",
            description =
                    "Keep RUN steps from this IPv4 range too, e.g. a cluster's pod and service CIDRs (repeatable)."
                            + " The host's own addresses, link-local and the farm's endpoints are always refused.")
    List<String> denyNet = new ArrayList<>();

    @Option(
            names = "--allow",
            paramLabel = "ENTITLEMENT",
            description = "Grant builds that ask for it (build --allow): network.host lets RUN --network=host share"
                    + " this host's network (repeatable).")
    Set<String> allow = new LinkedHashSet<>();

    @Option(
            names = "--net-pool",
            defaultValue = "4",
            paramLabel = "N",
            description = "Network namespaces kept for reuse by later RUN steps; 0 sets up a fresh one per step"
                    + " (~100 ms more each) (default: ${DEFAULT-VALUE}).")
    int netPool;

    @Option(
            names = "--cni-plugins",
            defaultValue = "/usr/lib/cni",
            paramLabel = "DIR",
            description = "Where the CNI bridge and host-local plugins are (default: ${DEFAULT-VALUE}, from Debian's"
                    + " containernetworking-plugins).")
    Path cniPlugins;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--drain-timeout",
            defaultValue = "600",
            paramLabel = "SECONDS",
            description =
                    "On SIGTERM the worker drains: it takes no new job and finishes those it runs, at most"
                            + " this long; jobs still running then go back to the coordinator's queue (default: ${DEFAULT-VALUE}).")
    long drainTimeoutSeconds;

    @Option(
            names = "--max-local-size",
            paramLabel = "SIZE",
            description = "The most this worker keeps under --root, e.g. 20GiB: snapshots, blobs, artifacts and"
                    + " contexts no running job uses are evicted, least recently used first, and fetched again"
                    + " from the cache when needed. Keep it below the disk's size (on Kubernetes, below the"
                    + " emptyDir's ephemeral-storage limit). Default: no limit.")
    String maxLocalSize;

    @Mixin
    MetricsOption metrics;

    /** The worker's farm token (and TLS), for the coordinator and the cache-server. */
    @Mixin
    ClientAuthOptions auth;

    @Mixin
    RegistryOptions registries;

    @Mixin
    TeamRegistryOption teamRegistries;

    @Mixin
    StepSandboxOptions sandbox;

    @Mixin
    InputLimitsOptions inputs;

    @Mixin
    BaseImageLimitsOptions baseImages;

    @Override
    public Integer call() throws Exception {
        NetworkOptions network = networkOptions();
        CountDownLatch stop = new CountDownLatch(1);
        PrometheusMeterRegistry meters = metrics.registry();
        try (WorkerNode node = new WorkerNode(
                                WorkerNode.Config.builder(name, coordinator, cache, root, registries.config(), slots)
                                        .security(auth.security())
                                        .network(network)
                                        .sandbox(sandbox.runc(), sandbox.limits())
                                        .maxLocalSize(maxLocalSizeBytes())
                                        .inputs(inputLimits())
                                        .baseImageLimits(baseImageLimits())
                                        .teamRegistryAuth(teamRegistries.dir())
                                        .build(),
                                meters)
                        .start();
                MetricsEndpoint endpoint = metrics.serve()) {
            // SIGTERM drains instead of ending the JVM at once (a shutdown hook could not wait for jobs);
            // so does a remote `stagefarm workers drain`
            Signal.handle(new Signal("TERM"), signal -> stop.countDown());
            node.onDrainRequested(stop::countDown);
            stop.await();
            node.drain(Duration.ofSeconds(drainTimeoutSeconds));
        }
        return 0;
    }

    private long maxLocalSizeBytes() {
        if (maxLocalSize == null) {
            return 0;
        }
        try {
            long bytes = Units.parseSize(maxLocalSize);
            if (bytes <= 0) {
                throw new IllegalArgumentException(
                        "--max-local-size must be above 0: leave it out for no limit, or give a size such as 20GiB");
            }
            return bytes;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-local-size: " + e.getMessage());
        }
    }

    private InputLimits inputLimits() {
        try {
            return inputs.limits();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private LayerLimits baseImageLimits() {
        try {
            return baseImages.limits();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private NetworkOptions networkOptions() {
        try {
            return new NetworkOptions(denyNet.stream().map(Cidr::parse).toList(), allow, netPool, cniPlugins);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
