package dev.stagefarm.cli.commands;

import dev.stagefarm.cli.build.EmbeddedFarm;
import dev.stagefarm.cli.build.LocalFarm;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.MetricsEndpoint;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stagefarm farm serve|start|stop|status}: the whole farm as one long-lived local process,
 * reached over Unix sockets. Builds then skip the farm's start-up, and its JIT stays warm.
 */
@Command(
        name = "farm",
        mixinStandardHelpOptions = true,
        description = {
            "Run the embedded farm as a long-lived local service, which `stagefarm build` then uses.",
            "Its sockets are in $" + LocalFarm.SOCKET_DIR_ENV + " (default /run/stagefarm), readable by root only."
        },
        subcommands = {
            FarmCommand.Serve.class,
            FarmCommand.Start.class,
            FarmCommand.Stop.class,
            FarmCommand.Status.class
        })
public final class FarmCommand {

    /** Options of the farm itself, shared by serve and start. */
    static final class FarmOptions {
        @Option(
                names = "--data",
                paramLabel = "DIR",
                description = "The farm's state (default: $STAGEFARM_DATA or /var/lib/stagefarm).")
        Path data;

        @Option(names = "--workers", defaultValue = "2", description = "Workers (default: ${DEFAULT-VALUE}).")
        int workers;

        @Option(
                names = "--allow-fetch",
                paramLabel = "HOST:PORT",
                description = "Let ADD fetch from this endpoint although it is loopback, link-local or private,"
                        + " e.g. a local registry (repeatable); every other such address is refused.")
        List<String> allowFetch = new ArrayList<>();

        List<HostPort> allowFetch() {
            return InputLimitsOptions.endpoints(allowFetch);
        }

        Path dataDir() {
            return data != null ? data : Path.of(System.getenv().getOrDefault("STAGEFARM_DATA", "/var/lib/stagefarm"));
        }

        List<String> asArguments() {
            List<String> args =
                    new ArrayList<>(List.of("--data", dataDir().toString(), "--workers", Integer.toString(workers)));
            allowFetch.forEach(a -> args.addAll(List.of("--allow-fetch", a)));
            return args;
        }
    }

    @Command(
            name = "serve",
            mixinStandardHelpOptions = true,
            description = "Run the local farm in the foreground until SIGTERM (for systemd or a terminal).")
    static final class Serve implements Callable<Integer> {
        @Mixin
        FarmOptions farm;

        @Mixin
        MetricsOption metrics;

        @Mixin
        RegistryOptions registries;

        @Override
        public Integer call() throws Exception {
            Path socketDir = LocalFarm.socketDir();
            if (LocalFarm.running(socketDir).isPresent()) {
                System.err.println("error: a local farm already answers at " + LocalFarm.address(socketDir)
                        + " (stop it with: stagefarm farm stop)");
                return 1;
            }
            Files.createDirectories(socketDir);
            Files.setPosixFilePermissions(socketDir, PosixFilePermissions.fromString("rwx------"));
            CountDownLatch stop = new CountDownLatch(1);
            try (EmbeddedFarm served = EmbeddedFarm.serve(
                            farm.dataDir(),
                            farm.workers,
                            registries.config(),
                            socketDir,
                            metrics.registry(),
                            farm.allowFetch());
                    MetricsEndpoint endpoint = metrics.serve()) {
                Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
                served.awaitWorkers();
                Files.writeString(
                        LocalFarm.pidFile(socketDir), ProcessHandle.current().pid() + "\n");
                System.err.println("stagefarm farm: serving at " + served.coordinatorAddress() + " with data in "
                        + farm.dataDir());
                stop.await();
            } catch (EmbeddedFarm.FarmBusyException e) {
                System.err.println("error: " + e.getMessage());
                return 1;
            } finally {
                Files.deleteIfExists(LocalFarm.pidFile(socketDir));
            }
            return 0;
        }
    }

    @Command(
            name = "start",
            mixinStandardHelpOptions = true,
            description = "Start the local farm in the background and wait until it answers.")
    static final class Start implements Callable<Integer> {
        @Mixin
        FarmOptions farm;

        @Mixin
        RegistryOptions registries;

        @Option(names = "--log", paramLabel = "FILE", description = "The farm's log (default: SOCKET_DIR/farm.log).")
        Path log;

        @Override
        public Integer call() throws Exception {
            farm.allowFetch(); // a wrong value is told here, not in the background farm's log
            Path socketDir = LocalFarm.socketDir();
            if (LocalFarm.running(socketDir).isPresent()) {
                System.out.println("stagefarm farm: already running at " + LocalFarm.address(socketDir));
                return 0;
            }
            Files.createDirectories(socketDir);
            Path logFile = log != null ? log : socketDir.resolve("farm.log");
            // The same JVM, class path and options as this process, in a session of its own so
            // that it outlives the terminal that started it.
            List<String> command = new ArrayList<>(List.of(
                    "setsid",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            // ...but never an AOT training run's output option: the farm would write the cache too
            ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> !a.startsWith("-XX:AOTCacheOutput") && !a.startsWith("-XX:AOTMode"))
                    .forEach(command::add);
            command.addAll(
                    List.of("-cp", System.getProperty("java.class.path"), "dev.stagefarm.cli.Main", "farm", "serve"));
            command.addAll(farm.asArguments());
            command.addAll(registries.asArguments());
            Process process = new ProcessBuilder(command)
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectErrorStream(true)
                    .start();
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                Optional<String> address = LocalFarm.running(socketDir);
                if (address.isPresent() && Files.exists(LocalFarm.pidFile(socketDir))) {
                    System.out.println("stagefarm farm: running at " + address.get() + " (log " + logFile + ")");
                    return 0;
                }
                if (!process.isAlive()) {
                    System.err.println(
                            "error: the local farm exited with status " + process.exitValue() + "; see " + logFile);
                    return 1;
                }
                Thread.sleep(100);
            }
            System.err.println("error: the local farm did not answer within 120 s; see " + logFile);
            return 1;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop the local farm.")
    static final class Stop implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Path socketDir = LocalFarm.socketDir();
            Optional<ProcessHandle> farm = pid(socketDir).flatMap(ProcessHandle::of);
            if (farm.isEmpty()) {
                System.out.println("stagefarm farm: not running");
                return 0;
            }
            farm.get().destroy();
            try {
                farm.get().onExit().get(60, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                System.err.println(
                        "error: the local farm (pid " + farm.get().pid() + ") still runs 60 s after SIGTERM");
                return 1;
            }
            System.out.println("stagefarm farm: stopped");
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "Say whether the local farm runs; exit status 0 when it answers, 3 when it does not.")
    static final class Status implements Callable<Integer> {
        @Override
        public Integer call() {
            Path socketDir = LocalFarm.socketDir();
            Optional<String> address = LocalFarm.running(socketDir);
            if (address.isEmpty()) {
                System.out.println("stagefarm farm: not running");
                return 3;
            }
            System.out.println("stagefarm farm: running at " + address.get()
                    + pid(socketDir).map(p -> " (pid " + p + ")").orElse(""));
            return 0;
        }
    }

    static Optional<Long> pid(Path socketDir) {
        try {
            return Optional.of(Long.parseLong(
                    Files.readString(LocalFarm.pidFile(socketDir)).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }
}
