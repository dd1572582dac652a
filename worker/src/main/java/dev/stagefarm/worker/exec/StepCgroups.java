package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each RUN's cgroup goes: below the worker's own cgroup, so that the limits and accounting of
 * the pod or service the worker runs in hold for its steps too.
 *
 * <p>A step's runc container lives in {@code <own>/stagefarm/<id>/step}. runc removes the leaf
 * when the step ends; the {@code <id>} level, which counts the step's OOM kills, is read and
 * removed by {@link #finish}.
 *
 * <p>cgroup v1 (this host): each controller has its own hierarchy and the worker may sit at a
 * different path in each, so the spec names a relative path that runc joins to its own (= the
 * worker's) path per controller. cgroup v2 (Kubernetes nodes): one hierarchy, and a cgroup with
 * processes may not hand controllers to children; the worker moves itself into
 * {@code <own>/worker} once and its steps get an absolute path beside it.
 */
final class StepCgroups {

    private static final Logger log = LoggerFactory.getLogger(StepCgroups.class);
    static final String PARENT = "stagefarm";

    enum Version {
        V1,
        V2
    }

    private final Version version;
    /** v2: the worker's cgroup before it moved into {@code <own>/worker}; v1: unused. */
    private final String ownV2;
    /** v1: each mounted hierarchy's directory for the worker's own cgroup; v2: the one directory. */
    private final Map<String, Path> ownDirs;

    StepCgroups(Version version, String ownV2, Map<String, Path> ownDirs) {
        this.version = version;
        this.ownV2 = ownV2;
        this.ownDirs = Map.copyOf(ownDirs);
    }

    /** The host's layout, found from /proc/self/cgroup and /proc/self/mountinfo. */
    static StepCgroups detect() throws IOException {
        Path root = Path.of("/sys/fs/cgroup");
        boolean v2 = Files.getFileStore(root).type().equals("cgroup2");
        List<String> lines = Files.readAllLines(Path.of("/proc/self/cgroup"));
        if (v2) {
            String own = lines.stream()
                    .filter(l -> l.startsWith("0::"))
                    .map(l -> l.substring(3))
                    .findFirst()
                    .orElse("/");
            if (own.endsWith("/worker")) { // moved there by an earlier start of this worker
                own = own.substring(0, own.length() - "/worker".length());
                own = own.isEmpty() ? "/" : own;
            }
            StepCgroups cgroups = new StepCgroups(Version.V2, own, Map.of("", root.resolve(own.substring(1))));
            cgroups.delegateV2();
            return cgroups;
        }
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (String line : lines) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || f[1].isEmpty()) {
                continue; // the v2 line of a hybrid host: runc's v1 manager does not use it
            }
            String controller = f[1].startsWith("name=") ? f[1].substring(5) : f[1].split(",")[0];
            Path mount = root.resolve(controller);
            if (Files.isDirectory(mount)) {
                dirs.put(f[1], mount.resolve(f[2].substring(1)));
            }
        }
        for (String controller : List.of("memory", "pids")) {
            Path dir = dirs.get(controller);
            if (dir == null || !Files.isWritable(dir)) {
                throw new IOException("cannot create build steps' cgroups below " + (dir == null ? controller : dir)
                        + ": run the worker with its cgroup writable (e.g. a privileged pod, or systemd Delegate=yes)");
            }
        }
        return new StepCgroups(Version.V1, "", dirs);
    }

    Version version() {
        return version;
    }

    /** runc's {@code linux.cgroupsPath} for the step with container id {@code id}. */
    String cgroupsPath(String id) {
        String inner = PARENT + "/" + id + "/step";
        return version == Version.V1 ? inner : (ownV2.equals("/") ? "" : ownV2) + "/" + inner;
    }

    /** The spec's {@code linux.resources} for one step under {@code limits}. */
    OciRuntimeSpec.Resources resources(StepLimits limits) {
        var memory = limits.memoryBytes() > 0 ? new OciRuntimeSpec.Memory(limits.memoryBytes()) : null;
        var pids = limits.pids() > 0 ? new OciRuntimeSpec.Pids(limits.pids()) : null;
        if (version == Version.V1) {
            return new OciRuntimeSpec.Resources(memory, pids, new OciRuntimeSpec.Cpu(limits.cpuShares()), null);
        }
        // runc maps v1 shares to a v2 weight on a curve that turns 1024 into 39, not 100: say it directly
        return new OciRuntimeSpec.Resources(memory, pids, null, Map.of("cpu.weight", "" + limits.cpuWeight()));
    }

    /**
     * After the step: whether it ran into its memory limit, and removes the step's own level (runc
     * removed the leaf). v2 counts OOM kills up the tree, so the step's level knows; v1 counts them
     * only in the leaf runc has just removed, but charges usage up the tree: a peak at the limit
     * says the same.
     */
    boolean finish(String id, long memoryLimit) {
        boolean oom = false;
        for (Map.Entry<String, Path> e : ownDirs.entrySet()) {
            Path dir = e.getValue().resolve(PARENT).resolve(id);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            if (version == Version.V2) {
                oom |= counter(dir.resolve("memory.events"), "oom_kill") > 0;
            } else if (e.getKey().equals("memory") && memoryLimit > 0) {
                oom |= value(dir.resolve("memory.max_usage_in_bytes")) >= memoryLimit - LIMIT_SLACK;
            }
            remove(dir.resolve("step")); // when runc was killed before it cleaned up
            remove(dir);
        }
        return oom;
    }

    /**
     * Removes a step's cgroup directory. Right after a kill (the OOM killer, a timeout) the kernel
     * may still be reaping the step's last processes, and rmdir answers EBUSY until it has: try
     * again for a moment before giving up with a warning.
     */
    private static void remove(Path dir) {
        for (int attempt = 1; ; attempt++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException ex) {
                if (attempt >= REMOVE_ATTEMPTS) {
                    log.warn("could not remove cgroup {}: {}", dir, ex.toString());
                    return;
                }
            }
            try {
                Thread.sleep(REMOVE_PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.warn("could not remove cgroup {}: interrupted", dir);
                return;
            }
        }
    }

    private static final int REMOVE_ATTEMPTS = 40;
    private static final long REMOVE_PAUSE_MILLIS = 50;

    /** How close to its limit a v1 step's peak usage has to come to count as having hit it. */
    private static final long LIMIT_SLACK = 1024 * 1024;

    private static long value(Path file) {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            log.debug("cannot read {}: {}", file, e.toString());
            return 0;
        }
    }

    private static long counter(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] kv = line.split("\\s+");
                if (kv.length == 2 && kv[0].equals(key)) {
                    return Long.parseLong(kv[1]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            log.debug("cannot read {}: {}", file, e.toString());
        }
        return 0;
    }

    /** v2's no-internal-processes rule: the worker leaves its cgroup to a leaf so steps can be its siblings. */
    private void delegateV2() throws IOException {
        Path own = ownDirs.get("");
        Path leaf = own.resolve("worker");
        if (!own.getFileName().toString().equals("worker")) {
            Files.createDirectories(leaf);
            for (String pid : Files.readAllLines(own.resolve("cgroup.procs"))) {
                try {
                    Files.writeString(leaf.resolve("cgroup.procs"), pid);
                } catch (IOException e) {
                    log.debug("cannot move process {} into {}: {}", pid, leaf, e.toString());
                }
            }
        }
        List<String> wanted = new ArrayList<>();
        String available = Files.readString(own.resolve("cgroup.controllers"));
        for (String c : List.of("memory", "pids", "cpu")) {
            if (available.contains(c)) {
                wanted.add("+" + c);
            }
        }
        try {
            Files.writeString(own.resolve("cgroup.subtree_control"), String.join(" ", wanted));
        } catch (IOException e) {
            throw new IOException(
                    "cannot hand the controllers " + wanted + " of cgroup " + own
                            + " to build steps: start the worker in a cgroup it may delegate ("
                            + e.getMessage() + ")",
                    e);
        }
    }

    Optional<Path> ownDir(String controller) {
        return Optional.ofNullable(ownDirs.get(controller));
    }
}
