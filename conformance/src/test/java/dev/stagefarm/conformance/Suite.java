package dev.stagefarm.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What every case of one run shares: a work directory (target/conformance, wiped at the start),
 * one stagefarm data directory (so base images are pulled once and steps may hit the cache as in
 * real use), and the BuildKit engine, connected on first use.
 */
final class Suite {

    private final Path work;
    private final StagefarmBuilder stagefarm;
    private BuildKitBuilder buildkit;
    private final Map<String, String> timings = new ConcurrentHashMap<>();
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "buildkit-builds");
        t.setDaemon(true);
        return t;
    });

    Suite(Path work) throws IOException, InterruptedException {
        removeTree(work);
        this.work = Files.createDirectories(work);
        this.stagefarm = new StagefarmBuilder(Files.createDirectories(work.resolve("stagefarm-data")));
    }

    Path work() {
        return work;
    }

    StagefarmBuilder stagefarm() {
        return stagefarm;
    }

    /** Where BuildKit builds run, one at a time, while stagefarm builds the same case. */
    ExecutorService background() {
        return background;
    }

    synchronized BuildKitBuilder buildkit() throws IOException, InterruptedException {
        if (buildkit == null) {
            buildkit = BuildKitBuilder.connect(work.resolve("logs"));
        }
        return buildkit;
    }

    void timing(String caseName, String builder, Duration d) {
        String line = String.format("%-40s %-10s %6.1f s", caseName, builder, d.toMillis() / 1000.0);
        timings.put(caseName + " " + builder, line);
        System.out.println("[conformance] " + line);
    }

    void writeTimings() throws IOException {
        Files.write(
                work.resolve("timings.txt"), timings.values().stream().sorted().toList());
    }

    /** rm -rf that refuses to cross into a mount (a worker's overlay left behind by a crash). */
    static void removeTree(Path dir) throws IOException, InterruptedException {
        if (!Files.exists(dir)) {
            return;
        }
        String prefix = dir.toAbsolutePath().normalize() + "/";
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 1 && f[1].startsWith(prefix)) {
                throw new IOException("something is still mounted under " + dir + " (" + f[1] + "): unmount it first");
            }
        }
        // the log sits beside the tree, in the suite's own directory: nothing is left in the system temp dir
        Path log = Files.createTempFile(dir.toAbsolutePath().getParent(), ".rm-", ".log");
        try {
            Processes.check(List.of("rm", "-rf", "--one-file-system", dir.toString()), Map.of(), log);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
