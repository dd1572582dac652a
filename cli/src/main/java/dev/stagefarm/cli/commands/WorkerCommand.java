package dev.stagefarm.cli.commands;

import dev.stagefarm.common.server.MetricsEndpoint;
import dev.stagefarm.worker.WorkerNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Mixin
    MetricsOption metrics;

    /** The worker's farm token (and TLS), for the coordinator and the cache-server. */
    @Mixin
    ClientAuthOptions auth;

    @Mixin
    RegistryOptions registries;

    @Mixin
    StepSandboxOptions sandbox;

    @Override
    public Integer call() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        PrometheusMeterRegistry meters = metrics.registry();
        try (WorkerNode node = new WorkerNode(
                                new WorkerNode.Config(
                                                name,
                                                coordinator,
                                                cache,
                                                root,
                                                registries.config(),
                                                slots,
                                                auth.security())
                                        .withSandbox(sandbox.runc(), sandbox.limits()),
                                meters)
                        .start();
                MetricsEndpoint endpoint = metrics.serve()) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        }
        return 0;
    }
}
