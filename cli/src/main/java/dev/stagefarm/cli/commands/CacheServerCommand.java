package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.HostPort;
import dev.stagefarm.common.server.MetricsEndpoint;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "cache-server", mixinStandardHelpOptions = true,
    description = "Serve the shared layer cache (content-addressed blobs and action cache) from RocksDB.")
public final class CacheServerCommand implements Callable<Integer> {

    @Option(names = "--listen", defaultValue = "127.0.0.1:7070", description = "gRPC address (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--data", required = true, description = "Directory for the RocksDB store.")
    Path data;

    @Option(names = "--max-size", paramLabel = "SIZE", converter = CacheCommand.SizeConverter.class,
        description = "Keep stored blobs under SIZE (e.g. 20GB, 512MiB; binary units), evicting the least recently used.")
    long maxSize;

    @Mixin
    MetricsOption metrics;

    @Mixin
    ServerSecurityOptions security;

    @Override
    public Integer call() throws Exception {
        PrometheusMeterRegistry registry = metrics.registry();
        HostPort address = HostPort.parse(listen);
        try (CacheServer server = new CacheServer(new CacheServerConfig(address, data, maxSize, security.tokens()), registry,
                 GrpcServers.netty(address, security.tls())).start();
             MetricsEndpoint endpoint = metrics.serve()) {
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            server.awaitTermination();
        }
        return 0;
    }
}
