package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.WorkerInfo;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A farm of real processes on loopback, started through the project's own launcher: a
 * cache-server, a coordinator and named workers, each with its own state directory.
 */
final class Farm implements AutoCloseable {

    static final Path REPO =
            Path.of(System.getProperty("stagefarm.repo", "..")).toAbsolutePath().normalize();
    static final Path LAUNCHER = REPO.resolve("bin/stagefarm");
    static final String REGISTRY = "127.0.0.1:5000";

    /**
     * Tokens and TLS of a farm: what the servers are started with, and the farm token (and CA)
     * coordinator and workers present. {@link #NONE}: the open, plaintext farm.
     */
    record Security(List<String> serverArgs, List<String> farmArgs, ClientSecurity farm) {
        static final Security NONE = new Security(List.of(), List.of(), ClientSecurity.NONE);
    }

    private final Path dir;
    private final Security security;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final String[] cacheArgs;
    private final String[] coordinatorArgs;
    final String cache;
    final String coordinator;
    /** The coordinator's Prometheus endpoint. */
    final String coordinatorMetrics;

    Farm(Path dir, String... workers) throws IOException, InterruptedException {
        this(dir, Security.NONE, workers);
    }

    Farm(Path dir, Security security, String... workers) throws IOException, InterruptedException {
        this(dir, security, List.of(), workers);
    }

    /** @param coordinatorFlags more flags for the coordinator, e.g. {@code --ui 127.0.0.1:PORT} */
    Farm(Path dir, Security security, List<String> coordinatorFlags, String... workers)
            throws IOException, InterruptedException {
        this.dir = dir;
        this.security = security;
        Tools.requireAll();
        cache = "127.0.0.1:" + freePort();
        coordinator = "127.0.0.1:" + freePort();
        coordinatorMetrics = "127.0.0.1:" + freePort();
        cacheArgs = with(
                security.serverArgs(),
                "cache-server",
                "--listen",
                cache,
                "--data",
                dir.resolve("cache").toString());
        start("cache-server", cacheArgs);
        Waits.awaitPort(cache);
        List<String> coordinatorExtra = new ArrayList<>(security.farmArgs());
        coordinatorExtra.addAll(coordinatorFlags);
        coordinatorArgs = with(
                coordinatorExtra,
                with(
                        security.serverArgs(),
                        "coordinator",
                        "--listen",
                        coordinator,
                        "--cache",
                        cache,
                        "--metrics",
                        coordinatorMetrics,
                        "--registry-mirror",
                        "docker.io=http://" + REGISTRY,
                        "--insecure-registry",
                        REGISTRY));
        start("coordinator", coordinatorArgs);
        Waits.awaitPort(coordinator);
        for (String w : workers) {
            startWorker(w);
        }
        awaitWorkers(workers);
    }

    /** Waits until these workers hold a session with the coordinator, as `stagefarm workers` lists them. */
    void awaitWorkers(String... names) {
        try {
            // (Awaitility named in full: this class has its own await, for builds)
            Awaitility.await("workers " + List.of(names) + " connected")
                    .atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() ->
                            workers().stream().map(WorkerInfo::getName).toList().containsAll(List.of(names)));
        } catch (ConditionTimeoutException e) {
            List<String> connected = workers().stream().map(WorkerInfo::getName).toList();
            StringBuilder tails = new StringBuilder();
            for (String name : names) {
                if (!connected.contains(name)) {
                    tails.append("\n--- last lines of ")
                            .append(name)
                            .append("'s log:\n")
                            .append(tail(name, 30));
                }
            }
            // the temporary directory is gone when the report is read: the logs' ends go with it
            throw new AssertionError("workers " + List.of(names) + " did not connect in 90 s; connected: " + connected
                    + " (logs in " + dir.resolve("logs") + ")" + tails);
        }
    }

    private String tail(String name, int lines) {
        try {
            List<String> all = Files.readAllLines(dir.resolve("logs").resolve(name + ".log"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    void startWorker(String name) throws IOException {
        startWorker(name, new String[0]);
    }

    /** @param extra more flags, e.g. {@code --slots 1} */
    void startWorker(String name, String... extra) throws IOException {
        List<String> flags = new ArrayList<>(security.farmArgs());
        flags.addAll(List.of(extra));
        start(
                name,
                with(
                        flags,
                        "worker",
                        "--coordinator",
                        coordinator,
                        "--cache",
                        cache,
                        "--name",
                        name,
                        "--root",
                        dir.resolve("workers").resolve(name).toString(),
                        "--registry-mirror",
                        "docker.io=http://" + REGISTRY,
                        "--insecure-registry",
                        REGISTRY));
    }

    void stop(String name) throws InterruptedException {
        Process p = processes.remove(name);
        if (p != null) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * Starts a server the test stopped or killed ({@code coordinator} or {@code cache-server})
     * again, on the same address and state, as a restarted pod or service would come back; its
     * log goes on in the same file.
     */
    void restart(String name) throws IOException {
        String[] args = switch (name) {
            case "coordinator" -> coordinatorArgs;
            case "cache-server" -> cacheArgs;
            default -> throw new IllegalArgumentException(name);
        };
        assertThat(processes).as("%s is stopped before it restarts", name).doesNotContainKey(name);
        start(name, args);
    }

    /** {@code args} followed by {@code extra}. */
    private static String[] with(List<String> extra, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(extra);
        return all.toArray(String[]::new);
    }

    private void start(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        Path log = Files.createDirectories(dir.resolve("logs")).resolve(name + ".log");
        Process p = cLocale(new ProcessBuilder(cmd))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        processes.put(name, p);
    }

    /** What the coordinator's /metrics endpoint serves now. */
    String coordinatorMetrics() throws IOException, InterruptedException {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://" + coordinatorMetrics + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** Waits for a component to exit by itself; returns its exit code. */
    int awaitExit(String name, Duration within) throws InterruptedException {
        Process p = processes.get(name);
        assertThat(p.waitFor(within.toMillis(), TimeUnit.MILLISECONDS))
                .as("%s exited within %s", name, within)
                .isTrue();
        processes.remove(name);
        return p.exitValue();
    }

    /** The workers as `stagefarm workers` lists them. */
    List<WorkerInfo> workers() {
        ManagedChannel channel = GrpcChannels.open(coordinator, security.farm());
        try {
            return CoordinatorGrpc.newBlockingStub(channel)
                    .listWorkers(ListWorkersRequest.getDefaultInstance())
                    .getWorkersList();
        } finally {
            channel.shutdownNow();
        }
    }

    /** Sends a signal (STOP, CONT, TERM, ...) to a component, as an operator or a node's failure would. */
    void signal(String name, String signal) throws IOException, InterruptedException {
        Process p = processes.get(name);
        assertThat(p).as("process %s", name).isNotNull();
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).as("kill -%s %s", signal, name).isZero();
    }

    /** A component's process id (the launcher execs the JVM, so it is the JVM's), e.g. for {@code jcmd}. */
    long pid(String name) {
        Process p = processes.get(name);
        assertThat(p).as("process %s", name).isNotNull();
        return p.pid();
    }

    /** Kills a component the hard way (SIGKILL), as a crashed machine would vanish. */
    void kill(String name) throws InterruptedException {
        Process p = processes.remove(name);
        if (p != null) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
    }

    /** Runs {@code stagefarm build --coordinator …}; returns its output and exit code. */
    Result build(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "build", ".log");
        return await(startBuild(out, args), out, args);
    }

    /** Runs another {@code stagefarm} command (e.g. {@code builds}) against this farm's coordinator. */
    Result cli(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "cli", ".log");
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        Process p = cLocale(new ProcessBuilder(cmd))
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        return await(p, out, args);
    }

    /** Starts a build in the background; its output goes to {@code out}. */
    Process startBuild(Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(
                List.of(LAUNCHER.toString(), "build", "--coordinator", coordinator, "--insecure-registry", REGISTRY));
        cmd.addAll(List.of(args));
        return cLocale(new ProcessBuilder(cmd))
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
    }

    /**
     * Starts a build as a shell starts a foreground job: in a process group of its own, whose id
     * is the returned process's pid, so that {@code kill -INT -PID} is the user's Ctrl-C.
     */
    Process startBuildAsForegroundJob(Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                "setsid", LAUNCHER.toString(), "build", "--coordinator", coordinator, "--insecure-registry", REGISTRY));
        cmd.addAll(List.of(args));
        return cLocale(new ProcessBuilder(cmd))
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
    }

    /** The containers runc knows on a worker, as {@code runc --root ROOT/runc list} shows them. */
    List<String> runcContainers(String worker) throws IOException, InterruptedException {
        Path runcRoot = dir.resolve("workers").resolve(worker).resolve("runc");
        Process p = new ProcessBuilder(Tools.which("runc").toString(), "--root", runcRoot.toString(), "list", "--quiet")
                .redirectErrorStream(true)
                .start();
        String listed = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("runc list: %s", listed).isZero();
        return listed.lines().filter(l -> !l.isBlank()).toList();
    }

    Result await(Process p, Path out, String... args) throws IOException, InterruptedException {
        boolean done = p.waitFor(15, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        String text = Files.readString(out);
        System.out.println("---- stagefarm " + String.join(" ", args) + "\n" + text);
        return new Result(done ? p.exitValue() : -1, text);
    }

    record Result(int exitCode, String output) {
        Result assertOk() {
            assertThat(exitCode).as("stagefarm build failed:\n" + output).isZero();
            return this;
        }
    }

    /**
     * Every component runs in the C locale, as services and CI often do: the golang image holds
     * non-ASCII file names (ca-certificates), which the launcher must still handle.
     */
    private static ProcessBuilder cLocale(ProcessBuilder pb) {
        pb.environment().remove("LANG");
        pb.environment().remove("LC_CTYPE");
        pb.environment().put("LC_ALL", "C");
        // Tokens come from the test's flags only, never from the machine's user.
        pb.environment().remove("STAGEFARM_TOKEN");
        pb.environment().put("STAGEFARM_CONFIG", "/nonexistent/stagefarm-e2e.properties");
        return pb;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (String name : List.copyOf(processes.keySet()).reversed()) {
            stop(name);
        }
    }
}
