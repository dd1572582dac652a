package dev.stagefarm.worker.exec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.worker.net.NetworkException;
import dev.stagefarm.worker.net.NetworkProvider;
import dev.stagefarm.worker.net.StepNetwork;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one process in a root filesystem with the real {@code runc} binary: writes an OCI bundle,
 * runs {@code runc run} in the foreground with the process's stdout and stderr streamed as
 * they come, and kills and deletes the container on timeout or interrupt.
 *
 * <p>runc keeps its state under {@link Config#stateDir()}, so our containers never mix with those
 * of other runc users on the host, and a restarted worker can find and delete its orphans.
 */
public final class RuncExecutor {

    private static final Logger log = LoggerFactory.getLogger(RuncExecutor.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Duration KILL_GRACE = Duration.ofSeconds(2);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /**
     * @param runc the runc binary
     * @param stateDir runc's {@code --root}: one per worker
     * @param bundlesDir where per-run bundles (config.json, hosts, resolv.conf) are written
     * @param resolvConf the host's resolver config, copied into each container read-only
     * @param hostname the containers' hostname, also in their /etc/hosts
     * @param tailLines how many output lines to keep for error messages
     * @param limits each step's cgroup limits, time limit, output cap and tmpfs size
     */
    public record Config(
            Path runc,
            Path stateDir,
            Path bundlesDir,
            Path resolvConf,
            String hostname,
            int tailLines,
            StepLimits limits) {

        public Config(Path runc, Path stateDir, Path bundlesDir, Path resolvConf, String hostname, int tailLines) {
            this(runc, stateDir, bundlesDir, resolvConf, hostname, tailLines, StepLimits.DEFAULTS);
        }

        public Config {
            if (tailLines < 1) {
                throw new IllegalArgumentException("tailLines must be positive: " + tailLines);
            }
            if (!hostname.matches("[A-Za-z0-9][A-Za-z0-9.-]{0,62}")) {
                throw new IllegalArgumentException("not a valid hostname: " + hostname);
            }
        }

        /**
         * runc from PATH (or /usr/sbin), its state under {@code workerRoot}, bundles in memory: a
         * bundle's config.json holds the step's environment, secrets passed with {@code env=} too.
         */
        public static Config defaults(Path workerRoot) {
            return new Config(
                    findRunc(),
                    workerRoot.resolve("runc"),
                    BundleDirs.inMemory(workerRoot),
                    Path.of("/etc/resolv.conf"),
                    "stagefarm",
                    50);
        }

        public Config withRunc(Path binary) {
            return new Config(binary, stateDir, bundlesDir, resolvConf, hostname, tailLines, limits);
        }

        public Config withLimits(StepLimits newLimits) {
            return new Config(runc, stateDir, bundlesDir, resolvConf, hostname, tailLines, newLimits);
        }

        static Path findRunc() {
            List<String> dirs = new ArrayList<>();
            String path = System.getenv("PATH");
            if (path != null) {
                dirs.addAll(List.of(path.split(File.pathSeparator)));
            }
            dirs.addAll(List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
            return dirs.stream()
                    .filter(d -> !d.isEmpty())
                    .map(d -> Path.of(d, "runc"))
                    .filter(Files::isExecutable)
                    .findFirst()
                    .orElse(Path.of("/usr/sbin/runc"));
        }
    }

    private final Config config;
    private final StepCgroups cgroups;
    private final List<String> warnings;
    private final NetworkProvider network;

    private RuncExecutor(Config config, StepCgroups cgroups, List<String> warnings, NetworkProvider network) {
        this.config = config;
        this.cgroups = cgroups;
        this.warnings = List.copyOf(warnings);
        this.network = network;
    }

    /** Sentences about this worker's sandbox an operator should act on (runc CVEs it lacks fixes for). */
    public List<String> warnings() {
        return warnings;
    }

    public StepLimits limits() {
        return config.limits();
    }

    /** An executor whose steps get loopback only, whatever network they ask for ({@code host} is refused). */
    public static RuncExecutor open(Config config) throws IOException, ExecException, InterruptedException {
        return open(config, NetworkProvider.loopbackOnly());
    }

    /**
     * Checks runc, creates the directories and deletes the containers and bundles a killed worker
     * left behind. Call before opening the snapshotter, whose mounts those containers may hold.
     */
    public static RuncExecutor open(Config config, NetworkProvider network)
            throws IOException, ExecException, InterruptedException {
        if (!Files.isExecutable(config.runc())) {
            throw new ExecException(
                    "runc not found at " + config.runc() + ": install the Debian package runc or pass --runc PATH");
        }
        RuncVersion version = RuncVersion.of(config.runc());
        for (RuncCves.Cve cve : RuncCves.missing(version)) {
            if (cve.refuse()) {
                throw new ExecException("runc " + version + " at " + config.runc() + " lacks the fix for " + cve.id()
                        + " (" + cve.what() + "): install runc " + String.join(" or later, ", cve.fixedIn())
                        + " or later (Debian 12: " + String.join(", ", cve.debianFixedIn()) + ") and pass --runc PATH");
            }
        }
        List<String> warnings = RuncCves.warnings(version);
        warnings.forEach(w -> log.warn("{}", w));
        var privateDir = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        Files.createDirectories(config.stateDir(), privateDir);
        Files.setPosixFilePermissions(config.stateDir(), PosixFilePermissions.fromString("rwx------"));
        // also removes the bundles of workers that died without coming back (a SIGKILL, a temporary root)
        BundleOwner.claim(config.bundlesDir(), config.stateDir());
        RuncExecutor executor = new RuncExecutor(config, StepCgroups.detect(), warnings, network);
        executor.deleteOrphans();
        log.info(
                "runc executor: runc {} ({}), state {}, bundles {}, hostname {}, cgroup {}, step limits {}",
                config.runc(),
                version,
                config.stateDir(),
                config.bundlesDir(),
                config.hostname(),
                executor.cgroups.version(),
                config.limits());
        return executor;
    }

    /**
     * Runs {@code spec} in {@code rootfs} (typically an active snapshot's merged directory) and
     * waits for it.
     *
     * @param output receives each line of the process's stdout and stderr, in arrival order
     * @return the exit code; a non-zero exit is a result, not an exception
     * @throws ExecException the user is unknown, runc could not start the process (e.g. argv[0]
     *     not found; the message is runc's and {@link ExecException#exitCode()} its exit code), or
     *     the timeout expired (the container is killed)
     * @throws InterruptedException the thread was interrupted; the container is killed first
     */
    public ExecResult run(Path rootfs, ProcessSpec spec, Consumer<String> output, Duration timeout)
            throws IOException, ExecException, InterruptedException {
        return run(rootfs, spec, StepOutput.lines(output), timeout);
    }

    /**
     * As {@link #run(Path, ProcessSpec, Consumer, Duration)}, with the output as the process wrote
     * it: {@code output} is closed before this returns, so it has had everything by then.
     */
    public ExecResult run(Path rootfs, ProcessSpec spec, StepOutput output, Duration timeout)
            throws IOException, ExecException, InterruptedException {
        ContainerUser user = ContainerUser.resolve(rootfs, spec.user());
        createWorkingDir(rootfs, spec.cwd(), user);
        List<String> destinations = new ArrayList<>(RuntimeSpecFactory.MOUNT_DESTINATIONS);
        spec.mounts().stream()
                .map(ProcessSpec.ExtraMount::destination)
                .filter(d -> !d.equals("/dev") && !d.startsWith("/dev/")) // /dev is a tmpfs of its own
                .forEach(destinations::add);
        MountStubs stubs = MountStubs.before(rootfs, destinations);
        String id = "sf-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        Path bundle = Files.createDirectory(config.bundlesDir().resolve(id));
        ExecResult result;
        boolean outOfMemory;
        try (StepNetwork net = acquireNetwork(spec.network())) {
            writeBundle(id, bundle, rootfs, spec, user, net);
            Duration limit = timeout.compareTo(config.limits().timeout()) < 0
                    ? timeout
                    : config.limits().timeout();
            result = runContainer(id, bundle, output, limit);
        } finally {
            cleanUp(stubs, bundle);
            outOfMemory = cgroups.finish(id, config.limits().memoryBytes());
        }
        if (outOfMemory && result.exitCode() == 128 + 9) { // SIGKILL: what the OOM killer sends
            throw new ExecException("the step ran out of memory: the kernel killed it at the worker's --step-memory"
                    + " limit of " + config.limits().memoryBytes() / StepLimits.MIB
                    + " MiB; use less memory in the step or raise --step-memory");
        }
        return result;
    }

    private StepNetwork acquireNetwork(String mode) throws ExecException, InterruptedException {
        try {
            return network.acquire(mode);
        } catch (NetworkException e) {
            throw new ExecException(e.getMessage(), -1, e);
        }
    }

    /** Never masks the run's own outcome; a failure here only costs a stray file. */
    private static void cleanUp(MountStubs stubs, Path bundle) {
        try {
            stubs.cleanup();
        } catch (IOException e) {
            log.warn("could not remove mount point stubs from the rootfs: {}", e.toString());
        }
        try {
            FileTrees.deleteRecursively(bundle);
        } catch (IOException e) {
            log.warn("could not delete bundle {}: {}", bundle, e.toString());
        }
    }

    private void writeBundle(String id, Path bundle, Path rootfs, ProcessSpec spec, ContainerUser user, StepNetwork net)
            throws IOException {
        Path hosts = bundle.resolve("hosts");
        Files.writeString(
                hosts, "127.0.0.1\tlocalhost " + config.hostname() + "\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        // a copy, so that the host rewriting its file (DHCP, resolvconf) cannot break a running mount
        Path resolv = bundle.resolve("resolv.conf");
        Path resolvSource = net.resolvConf().orElse(config.resolvConf());
        if (Files.isReadable(resolvSource)) {
            Files.copy(resolvSource, resolv);
        } else {
            Files.writeString(resolv, "");
        }
        OciRuntimeSpec oci = StepSandbox.apply(
                RuntimeSpecFactory.create(spec, user, rootfs, config.hostname(), resolv, hosts, net),
                cgroups.cgroupsPath(id),
                cgroups.resources(config.limits()),
                config.limits().tmpfsBytes());
        JSON.writeValue(bundle.resolve("config.json").toFile(), oci);
    }

    private ExecResult runContainer(String id, Path bundle, StepOutput output, Duration timeout)
            throws IOException, ExecException, InterruptedException {
        Path runcLog = bundle.resolve("runc.log");
        Process process = new ProcessBuilder(runc(
                        "--log", runcLog.toString(), "--log-format", "json", "run", "--bundle", bundle.toString(), id))
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        OutputPump pump = new OutputPump(
                process.getInputStream(),
                output,
                config.tailLines(),
                config.limits().outputBytes());
        Thread reader = Thread.ofVirtual().name("runc-output-" + id).start(pump);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(id, process);
                throw new ExecException(
                        "the step timed out: it ran longer than its time limit of " + human(timeout)
                                + " and was killed (the worker's --step-timeout)",
                        -1,
                        null);
            }
        } catch (InterruptedException e) {
            kill(id, process);
            throw e;
        } finally {
            awaitOutput(reader, process);
        }
        int exit = process.exitValue();
        Optional<String> startError = runcError(runcLog);
        if (startError.isPresent()) {
            throw new ExecException(startError.get() + " (runc exit code " + exit + ")", exit, null);
        }
        return new ExecResult(exit, pump.tail());
    }

    /**
     * Waits for the output's last bytes to be passed on, so that they come before the step's end;
     * every process in the container's pid namespace is gone, so the pipe reaches EOF.
     */
    private static void awaitOutput(Thread reader, Process process) throws IOException {
        boolean done;
        try {
            done = reader.join(COMMAND_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (!done) {
            process.getInputStream().close();
        }
    }

    /** Kills the container, waits for runc to return, and makes sure runc forgets it. Ignores interrupts. */
    private void kill(String id, Process process) {
        boolean interrupted = false;
        try {
            // the container may still be being created: retry until runc run returns
            for (int attempt = 0; attempt < 5 && process.isAlive(); attempt++) {
                runQuietly(runc("kill", id, "KILL"));
                try {
                    process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            runQuietly(runc("delete", "--force", id));
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void deleteOrphans() throws IOException, InterruptedException {
        Process list = new ProcessBuilder(runc("list", "--quiet"))
                .redirectErrorStream(true)
                .start();
        String ids = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (list.waitFor() != 0) {
            throw new IOException("runc list failed: " + ids.strip());
        }
        for (String id : ids.strip().split("\\s+")) {
            if (!id.isEmpty()) {
                log.warn("deleting container {} left by a previous worker", id);
                runQuietly(runc("delete", "--force", id));
            }
        }
        try (Stream<Path> bundles = Files.list(config.bundlesDir())) {
            for (Path bundle : bundles.toList()) {
                if (bundle.getFileName().toString().equals(BundleOwner.OWNER_FILE)) {
                    continue; // our claim on the directory, locked
                }
                FileTrees.deleteRecursively(bundle);
            }
        }
    }

    /** The last error runc logged: set when it failed to start the process rather than the process failing. */
    private static Optional<String> runcError(Path runcLog) throws IOException {
        if (!Files.exists(runcLog)) {
            return Optional.empty();
        }
        String message = null;
        for (String line : Files.readAllLines(runcLog, StandardCharsets.UTF_8)) {
            try {
                var entry = JSON.readTree(line);
                if ("error".equals(entry.path("level").asText())
                        || "fatal".equals(entry.path("level").asText())) {
                    message = entry.path("msg").asText();
                }
            } catch (IOException e) {
                // not JSON: runc wrote something unexpected; the exit code still tells
            }
        }
        return Optional.ofNullable(message);
    }

    private static String human(Duration d) {
        if (d.toMillis() % 60_000 == 0) {
            return d.toMinutes() + "m";
        }
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private List<String> runc(String... args) {
        List<String> cmd = new ArrayList<>(
                List.of(config.runc().toString(), "--root", config.stateDir().toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static void runQuietly(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            log.warn("{} failed: {}", cmd, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Creates a missing working directory inside the rootfs, each new component owned by the user
     * (as BuildKit does); links on the way are followed inside the rootfs, never on the host.
     */
    private static void createWorkingDir(Path rootfs, String cwd, ContainerUser user)
            throws IOException, ExecException {
        try (RootFs fs = RootFs.open(rootfs)) {
            fs.createDirectories(cwd, 0755, user.uid(), user.gid());
        } catch (NotDirectoryException e) {
            throw new ExecException("working directory " + cwd + " is not a directory");
        } catch (IOException e) {
            throw new ExecException("cannot create working directory " + cwd + ": " + e.getMessage(), -1, e);
        }
    }
}
