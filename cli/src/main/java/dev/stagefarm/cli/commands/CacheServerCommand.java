package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.cacheserver.dataport.DataPortLimits;
import dev.stagefarm.common.auth.TokensFile;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.MetricsEndpoint;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "cache-server",
        mixinStandardHelpOptions = true,
        description = "Serve the shared layer cache (content-addressed blobs and action cache) from RocksDB.")
public final class CacheServerCommand implements Callable<Integer> {

    @Option(
            names = "--listen",
            defaultValue = "127.0.0.1:7070",
            description = "gRPC address (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(
            names = "--data-listen",
            paramLabel = "HOST:PORT|off",
            description = {
                "Data port for large reads: plain TCP (TLS with --tls-cert) beside gRPC, for clients that reach it;"
                        + " others read over gRPC. Default: the --listen host, any free port (OpenRead tells clients which);"
                        + " set a port where a firewall or a Kubernetes Service stands between. 'off' turns it off."
            })
    String dataListen;

    @Option(
            names = "--data-max-connections",
            paramLabel = "N",
            defaultValue = "" + DataPortLimits.MAX_CONNECTIONS,
            description = "Data port connections open at once (default: ${DEFAULT-VALUE}); one client address holds"
                    + " at most a quarter of them, and a connection that sends no ticket within 2 s is closed.")
    int dataMaxConnections;

    @Option(names = "--data", required = true, description = "Directory for the RocksDB store.")
    Path data;

    @Option(
            names = "--max-size",
            paramLabel = "SIZE",
            converter = CacheCommand.SizeConverter.class,
            description =
                    "Keep stored blobs under SIZE (e.g. 20GB, 512MiB; binary units), evicting the least recently used.")
    long maxSize;

    @Option(
            names = "--team-quota",
            paramLabel = "TEAM=SIZE",
            description = "Keep team TEAM's blobs under SIZE (e.g. 50GiB), evicting that team's least recently used"
                    + " first and no other team's; repeatable. Overrides the tokens file's \"cache-quota\".")
    Map<String, String> teamQuotas = new LinkedHashMap<>();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    MetricsOption metrics;

    @Mixin
    ServerSecurityOptions security;

    @Override
    public Integer call() throws Exception {
        PrometheusMeterRegistry registry = metrics.registry();
        HostPort address = HostPort.parse(listen);
        CacheServer configured = new CacheServer(
                new CacheServerConfig(address, data, maxSize, security.tokens()),
                registry,
                GrpcServers.netty(address, security.tls()));
        configured.withTeamQuotas(quotas());
        HostPort dataAddress = dataAddress(address);
        if (dataAddress != null) {
            configured.withDataPort(
                    dataAddress, security.tls(), DataPortLimits.DEFAULTS.withMaxConnections(dataMaxConnections));
        }
        try (CacheServer server = configured.start();
                MetricsEndpoint endpoint = metrics.serve()) {
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            server.awaitTermination();
        }
        return 0;
    }

    /** --team-quota, in bytes by team; a wrong entry is refused with what to write. */
    Map<String, Long> quotas() {
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (var e : teamQuotas.entrySet()) {
            if (!TokensFile.TEAM.matcher(e.getKey()).matches()) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--team-quota " + e.getKey() + "=" + e.getValue()
                                + ": a team name is 1-63 lower-case letters, digits, '.', '_' or '-'");
            }
            try {
                long size = Units.parseSize(e.getValue());
                if (size < 1) {
                    throw new IllegalArgumentException("a quota must be at least 1 byte");
                }
                bytes.put(e.getKey(), size);
            } catch (IllegalArgumentException bad) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--team-quota " + e.getKey() + "=" + e.getValue() + ": " + bad.getMessage());
            }
        }
        return bytes;
    }

    /** Where the data port listens; null when it is off. */
    HostPort dataAddress(HostPort grpc) {
        if (dataListen == null) {
            return new HostPort(grpc.host(), 0);
        }
        return dataListen.equals("off") ? null : HostPort.parse(dataListen);
    }
}
