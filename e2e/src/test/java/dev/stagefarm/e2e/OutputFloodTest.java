package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 requirement 4: {@code RUN yes} in one build leaves the worker and every other build on it
 * working, and the coordinator's memory flat. A farm of separate processes.
 */
@Tag("e2e")
class OutputFloodTest {

    private static final String CLIPPED = "[output clipped, log limit 2MiB reached]";
    private static final String LINE = "0".repeat(1023);
    /** Live heap the coordinator may gain while a build floods: far below what a flood would cost unbounded. */
    private static final long HEAP_GROWTH_BOUND = 32L * 1024 * 1024;
    /**
     * Messages the flood may cost between worker and coordinator, and coordinator and clients: 2 MiB
     * in 32 KiB chunks is 64 (75 and 78 seen, with the other build's); a message per line was 2048.
     */
    private static final double MESSAGES_BOUND = 500;

    @TempDir
    Path dir;

    @Test
    void aFloodIsClippedWhileAnotherBuildOnItsWorkerFinishesAndTheCoordinatorStaysFlat() throws Exception {
        Path warm = context("warm", "FROM busybox\nRUN echo warm\n");
        // 1 KiB lines, so that the client prints 2048 of them, not a million, on a busy machine; `yes`
        // floods for 20 s (the pump drains it all the while), then the step idles until the test ends it
        Path flood = context("flood", "FROM busybox\nRUN timeout 20 yes " + LINE + "; sleep 1200\n");
        Path quiet = context("quiet", "FROM busybox\nRUN echo quiet-build-done\n");
        try (Farm farm = new Farm(dir)) {
            // the step time limit only ends a flood this test failed to end
            farm.startWorker("w1", "--slots", "2", "--step-timeout", "900s");
            farm.awaitWorkers("w1");
            farm.build("--progress", "plain", warm.toString()).assertOk(); // busybox on w1, classes loaded
            long heapBefore = liveHeap(farm);
            String before = farm.coordinatorMetrics();

            Path floodOut = dir.resolve("flood.log");
            Process flooding =
                    farm.startBuildAsForegroundJob(floodOut, "--progress", "plain", "--no-cache", flood.toString());
            try {
                Waits.awaitMatch(floodOut, Pattern.compile("(" + Pattern.quote(CLIPPED) + ")"), Duration.ofMinutes(10));

                Farm.Result other = farm.build("--progress", "plain", "--no-cache", quiet.toString());

                other.assertOk();
                assertThat(other.output()).contains("quiet-build-done");
                assertThat(flooding.isAlive()).as("the flood still runs").isTrue();
                assertThat(farm.runcContainers("w1"))
                        .as("the flood's container")
                        .hasSize(1);
                long heapDuring = liveHeap(farm);
                String during = farm.coordinatorMetrics();
                double fromWorker = messages(
                                during, "grpc_server_requests_received_messages_total", "method=\"Connect\"")
                        - messages(before, "grpc_server_requests_received_messages_total", "method=\"Connect\"");
                double toClients = messages(during, "grpc_server_responses_sent_messages_total", "method=\"Build\"")
                        - messages(before, "grpc_server_responses_sent_messages_total", "method=\"Build\"");
                System.out.printf(
                        "---- flood: coordinator live heap %d -> %d bytes; messages worker->coordinator %.0f,"
                                + " coordinator->clients %.0f%n",
                        heapBefore, heapDuring, fromWorker, toClients);
                assertThat(heapDuring - heapBefore)
                        .as(
                                "coordinator live heap growth during the flood (before %d, during %d)",
                                heapBefore, heapDuring)
                        .isLessThan(HEAP_GROWTH_BOUND);
                assertThat(fromWorker)
                        .as("messages from the worker during the flood")
                        .isLessThan(MESSAGES_BOUND);
                assertThat(toClients).as("messages to the two builds' clients").isLessThan(MESSAGES_BOUND);
            } finally {
                // Ctrl-C, as a shell sends it to its foreground job: the farm cancels the build and stops the step
                new ProcessBuilder("kill", "-INT", "--", "-" + flooding.pid())
                        .inheritIO()
                        .start()
                        .waitFor();
                assertThat(flooding.waitFor(60, TimeUnit.SECONDS))
                        .as("the flood's client ends on Ctrl-C")
                        .isTrue();
            }
            await("the flood's container is gone")
                    .atMost(Duration.ofMinutes(1))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> farm.runcContainers("w1").isEmpty());

            String out = Files.readString(floodOut);
            assertThat(out.indexOf(CLIPPED)).isEqualTo(out.lastIndexOf(CLIPPED));
            // exactly the 2 MiB the worker passes on, back as the lines `yes` wrote
            assertThat(out.lines().filter(l -> l.matches("#\\d+ " + LINE)).count())
                    .as("lines of the flood the client printed")
                    .isEqualTo(2048);
        }
    }

    private Path context(String name, String dockerfile) throws IOException {
        Path ctx = Files.createDirectories(dir.resolve(name));
        Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
        return ctx;
    }

    /** The coordinator's heap after a full collection (jcmd GC.run), from its metrics endpoint. */
    private static long liveHeap(Farm farm) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process gc = new ProcessBuilder(jcmd.toString(), Long.toString(farm.pid("coordinator")), "GC.run")
                .redirectErrorStream(true)
                .start();
        String said = new String(gc.getInputStream().readAllBytes());
        assertThat(gc.waitFor()).as("jcmd GC.run: %s", said).isZero();
        return (long) Prometheus.sum(farm.coordinatorMetrics(), "jvm_memory_used_bytes", "area=\"heap\"");
    }

    private static double messages(String scrape, String metric, String method) {
        double n = Prometheus.sum(scrape, metric, method);
        assertThat(n).as("%s{%s} in the coordinator's metrics", metric, method).isPositive();
        return n;
    }
}
