package dev.stagefarm.cacheserver;

import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.ServerTls;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A cache-server in a process of its own, for tests that kill it and for the benchmark:
 * {@code CacheServerProcess DATA_DIR [MAX_BYTES]}. Prints {@code PORT n} once it serves on
 * 127.0.0.1:n, then runs until killed.
 */
public final class CacheServerProcess {

    private CacheServerProcess() {}

    public static void main(String[] args) throws Exception {
        HostPort listen = HostPort.parse("127.0.0.1:0");
        long maxBytes = args.length > 1 ? Long.parseLong(args[1]) : 0;
        CacheServer server = new CacheServer(
                        new CacheServerConfig(listen, Path.of(args[0]), maxBytes),
                        new SimpleMeterRegistry(),
                        GrpcServers.netty(listen))
                .withDataPort(listen, ServerTls.NONE)
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("PORT " + server.port());
        System.out.flush();
        server.awaitTermination();
    }

    /** Starts one with this JVM's class path; returns the process once it printed its port. */
    static Started start(Path dataDir, Path log, String... jvmOptions) throws Exception {
        return launch(CacheServerProcess.class, List.of(dataDir.toString()), log, jvmOptions);
    }

    /**
     * Starts {@code main} in a JVM of its own with this JVM's class path, its standard error
     * appended to {@code log}; returns once it printed {@code PORT n}.
     */
    static Started launch(Class<?> main, List<String> args, Path log, String... jvmOptions) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // RocksDB copies its native library to java.io.tmpdir and deletes it at a clean exit only: a
        // killed server's copy (17 MB) stays in the test's directory, not in the system temp dir
        Path tmp = Files.createDirectories(log.toAbsolutePath().resolveSibling("jvm-tmp"));
        command.add("-Djava.io.tmpdir=" + tmp);
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(args);
        Process process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        var out = new BufferedReader(new InputStreamReader(process.getInputStream()));
        // A profiler agent in jvmOptions may print a line of its own first.
        String line = out.readLine();
        while (line != null && !line.startsWith("PORT ") && !line.contains("Exception")) {
            line = out.readLine();
        }
        if (line == null || !line.startsWith("PORT ")) {
            process.destroyForcibly();
            throw new IllegalStateException(main.getSimpleName() + " process did not start (printed " + line + "); see "
                    + log + ":\n" + Files.readString(log));
        }
        return new Started(process, Integer.parseInt(line.substring(5).trim()));
    }

    record Started(Process process, int port) {}
}
