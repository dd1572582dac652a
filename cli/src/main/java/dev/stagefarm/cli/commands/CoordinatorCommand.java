package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.MetricsEndpoint;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.stagefarm.coordinator.CoordinatorServer;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "coordinator", mixinStandardHelpOptions = true,
    description = "Plan builds, keep worker sessions and dispatch stages to workers.")
public final class CoordinatorCommand implements Callable<Integer> {

    @Option(names = "--listen", defaultValue = "127.0.0.1:7071", description = "gRPC address (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--cache", required = true, description = "The cache-server, HOST:PORT.")
    String cache;

    @Option(names = "--worker-wait", defaultValue = "60", description = "Seconds a build waits for a first worker.")
    int workerWaitSeconds;

    @Mixin
    MetricsOption metrics;

    @Mixin
    RegistryOptions registries;

    @Override
    public Integer call() throws Exception {
        PrometheusMeterRegistry meters = metrics.registry;
        try (CacheClient client = CacheClient.connect(cache);
             CoordinatorServer server = new CoordinatorServer(GrpcServers.netty(listen), client, cache,
                 registries.client(), Duration.ofSeconds(workerWaitSeconds), meters).start();
             MetricsEndpoint endpoint = metrics.serve()) {
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            server.awaitTermination();
        }
        return 0;
    }
}
