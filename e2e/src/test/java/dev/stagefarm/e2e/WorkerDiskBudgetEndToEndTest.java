package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.WorkerInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker with a small {@code --max-local-size} (real runc, real overlayfs) runs more builds than
 * its budget holds: its directory stays under the budget plus the job in flight, evicted snapshots
 * and blobs are logged and counted, and a build whose cached layer was evicted here still runs,
 * fetching that layer from the cache again.
 */
@Tag("e2e")
class WorkerDiskBudgetEndToEndTest {

    private static final long MIB = 1 << 20;
    private static final long BUDGET = 24 * MIB;
    /** One job here: busybox (~2 MiB), an 8 MiB layer as blob and snapshot, its upper dir while it runs. */
    private static final long JOB_IN_FLIGHT = 28 * MIB;

    @TempDir
    Path dir;

    @Test
    void theWorkersDirectoryStaysUnderItsBudgetAndEvictedLayersComeBackFromTheCache() throws Exception {
        try (Farm farm = new Farm(dir)) {
            String metrics = "127.0.0.1:" + Farm.freePort();
            farm.startWorker("wdisk", "--slots", "1", "--max-local-size", "24MiB", "--metrics", metrics);
            farm.awaitWorkers("wdisk");
            Path root = dir.resolve("workers/wdisk");

            AtomicLong peak = new AtomicLong();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (sampling.get()) {
                    peak.accumulateAndGet(du(root), Math::max);
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                for (int i = 1; i <= 5; i++) {
                    farm.build(context("big-" + i, "RUN head -c 8388608 /dev/urandom > /big-" + i)
                                    .toString())
                            .assertOk();
                }
            } finally {
                sampling.set(false);
                sampler.join();
            }
            long after = du(root);
            System.out.printf(
                    "worker root: peak %d MiB, after the builds %d MiB, budget %d MiB%n",
                    peak.get() / MIB, after / MIB, BUDGET / MIB);
            assertThat(peak.get())
                    .as("the worker's directory at its fullest")
                    .isLessThanOrEqualTo(BUDGET + JOB_IN_FLIGHT);
            assertThat(after)
                    .as("between jobs, within the budget (plus runc and cache-mount state)")
                    .isLessThanOrEqualTo(BUDGET + 4 * MIB);

            String log = Files.readString(dir.resolve("logs/wdisk.log"));
            assertThat(log)
                    .contains("evicted snapshot")
                    .contains("evicted blob")
                    .contains("--max-local-size 24.0 MiB");

            // the first build's 8 MiB layer is long gone from this worker, but in the cache: a new
            // step on top of it fetches and unpacks it again
            Farm.Result again = farm.build(
                    context("big-1", "RUN head -c 8388608 /dev/urandom > /big-1", "RUN wc -c /big-1 && echo refetched")
                            .toString());
            again.assertOk();
            assertThat(again.output()).contains("8388608 /big-1").contains("refetched");

            String scraped = Prometheus.scrape(metrics);
            assertThat(gauge(scraped, "stagefarm_worker_disk_budget_bytes")).isEqualTo((double) BUDGET);
            assertThat(gauge(scraped, "stagefarm_worker_disk_used_bytes")).isBetween(1.0, (double) BUDGET);
            assertThat(gauge(scraped, "stagefarm_worker_disk_evicted_bytes_total"))
                    .isGreaterThan(20.0 * MIB);
            WorkerInfo listed = farm.workers().stream()
                    .filter(w -> w.getName().equals("wdisk"))
                    .findFirst()
                    .orElseThrow();
            assertThat(listed.getLocalDiskBudgetBytes()).isEqualTo(BUDGET);
            assertThat(listed.getLocalDiskUsedBytes()).isBetween(1L, BUDGET);
        }
    }

    private Path context(String name, String... steps) throws IOException {
        Path ctx = Files.createDirectories(dir.resolve("contexts").resolve(name + "-" + steps.length));
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox:latest\n" + String.join("\n", steps) + "\n",
                StandardCharsets.UTF_8);
        return ctx;
    }

    /** What du says the directory takes, in bytes, not crossing into the overlay mounts of running steps. */
    private static long du(Path root) {
        try {
            Process p = new ProcessBuilder("du", "-sxB1", root.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return out.isBlank() ? 0 : Long.parseLong(out.split("\\s+")[0]);
        } catch (IOException | InterruptedException | NumberFormatException e) {
            return 0;
        }
    }

    private static double gauge(String scraped, String name) {
        return scraped.lines()
                .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in the worker's metrics"));
    }
}
