package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.auth.ReloadingTokens;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.net.Keepalive;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.MetricsEndpoint;
import dev.stagefarm.coordinator.CoordinatorServer;
import dev.stagefarm.coordinator.schedule.Locality;
import dev.stagefarm.coordinator.web.FarmWebServer;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.TeamRegistries;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "coordinator",
        mixinStandardHelpOptions = true,
        description = "Plan builds, keep worker sessions and dispatch stages to workers.")
public final class CoordinatorCommand implements Callable<Integer> {

    @Option(
            names = "--listen",
            defaultValue = "127.0.0.1:7071",
            description = "gRPC address (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--cache", required = true, description = "The cache-server, HOST:PORT.")
    String cache;

    @Option(
            names = "--worker-wait",
            defaultValue = "60",
            paramLabel = "SECONDS",
            description = "How long a build waits while no worker at all is connected before it fails"
                    + " (default: ${DEFAULT-VALUE}); 0 waits as long as the build lasts, for a farm whose"
                    + " autoscaler scales the workers to zero. Either way the build is told it waits.")
    int workerWaitSeconds;

    @Option(
            names = "--locality-wait",
            defaultValue = "3s",
            paramLabel = "DURATION",
            description = "The longest a job waits for a busy worker that holds more of its inputs, instead of"
                    + " taking a free one (delay scheduling, as spark.locality.wait; default: ${DEFAULT-VALUE});"
                    + " 0 never waits.")
    String localityWait;

    @Option(
            names = "--locality-min-saving",
            defaultValue = "1s",
            paramLabel = "DURATION",
            description = "A job waits for a better-placed worker only when that spares at least this much"
                    + " transfer time at --locality-rate, and never longer than the time it spares"
                    + " (default: ${DEFAULT-VALUE}).")
    String localityMinSaving;

    @Option(
            names = "--locality-rate",
            defaultValue = "100MiB",
            paramLabel = "SIZE",
            description = "The rate per second at which a worker is assumed to fetch and unpack inputs it lacks"
                    + " (default: ${DEFAULT-VALUE}).")
    String localityRate;

    @Option(
            names = "--ui",
            paramLabel = "HOST:PORT",
            description = "Serve the farm's read-only web page here (off by default); TLS as the gRPC port,"
                    + " sign-in with a token when --tokens is given.")
    String ui;

    @Mixin
    MetricsOption metrics;

    @Mixin
    ServerSecurityOptions server;

    /** How the coordinator reaches the cache-server: with a tokens file, a farm token. */
    @Mixin
    ClientAuthOptions cacheAuth;

    @Mixin
    RegistryOptions registries;

    /** The --locality-* flags; an IllegalArgumentException names the flag and what to write. */
    Locality locality() {
        Duration wait = duration("--locality-wait", localityWait);
        Duration minSaving = duration("--locality-min-saving", localityMinSaving);
        long rate;
        try {
            rate = Units.parseSize(localityRate);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--locality-rate: " + e.getMessage());
        }
        if (rate <= 0) {
            throw new IllegalArgumentException(
                    "--locality-rate is bytes a second and must be more than 0, such as 100MiB: got " + localityRate);
        }
        return Locality.DEFAULTS.withWait(wait, minSaving).withRate(rate);
    }

    private static Duration duration(String flag, String text) {
        try {
            return Units.parseDuration(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
    }

    @Mixin
    TeamRegistryOption teamRegistries;

    @Override
    public Integer call() throws Exception {
        if (workerWaitSeconds < 0) {
            System.err.println("error: --worker-wait is a number of seconds, 0 or more (0 waits as long as the build"
                    + " lasts): got " + workerWaitSeconds);
            return 2;
        }
        Locality locality;
        try {
            locality = locality();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        PrometheusMeterRegistry meters = metrics.registry();
        ClientSecurity toCache = cacheAuth.security();
        ReloadingTokens tokens = null;
        if (server.tokens() != null) {
            tokens = ReloadingTokens.open(server.tokens(), Clock.systemUTC());
            if (toCache.token() == null) {
                System.err.println("error: a coordinator with --tokens reads the cache for each build's team: give it a"
                        + " token with the farm scope (--token, --token-file or STAGEFARM_TOKEN)");
                return 2;
            }
        }
        try (CacheClient client = CacheClient.connect(cache, toCache);
                RegistryClient registry = registries.client();
                TeamRegistries teams = teamRegistries.dir() == null
                        ? TeamRegistries.farmOnly(registry)
                        : TeamRegistries.fromDirectory(
                                teamRegistries.dir(),
                                registries.config(),
                                CredentialStore.fromDockerConfig(),
                                registry);
                CoordinatorServer server = new CoordinatorServer(
                                Keepalive.server(GrpcServers.netty(HostPort.parse(listen), this.server.tls())),
                                client,
                                cache,
                                registry,
                                Duration.ofSeconds(workerWaitSeconds),
                                meters,
                                tokens,
                                locality)
                        .withTeamRegistries(teams)
                        .start();
                MetricsEndpoint endpoint = metrics.serve();
                FarmWebServer page = ui == null ? null : server.serveUi(HostPort.parse(ui), this.server.tls())) {
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            server.awaitTermination();
        }
        return 0;
    }
}
