package dev.stagefarm.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The autoscaler on a real farm of processes: while a stream of builds runs, workers are added and
 * removed as KEDA would, the count computed from the coordinator's scraped queue with the
 * ScaledObject's own rule ({@link ScalingRule}), at most 3 at once on this machine. Removal is
 * SIGTERM, as the kubelet sends it: the worker drains. Every build succeeds, no job runs twice.
 */
@Tag("e2e")
class ScaleOnTheQueueTest {

    private static final Path ROOT = Kustomize.k8sDir().getParent().getParent();
    private static final int MOST_WORKERS = 3;
    /** Polls with a lower desired count before one worker goes (KEDA's scale-down window, shortened). */
    private static final int SCALE_IN_AFTER = 3;

    @TempDir
    Path dir;

    private final String run = "scale-" + UUID.randomUUID().toString().substring(0, 8);
    private final Map<String, Process> processes = new ConcurrentHashMap<>();
    private String coordinator;
    private String coordinatorMetrics;
    private String cache;

    @Test
    void workersFollowTheQueueUpAndDownAndEveryBuildSucceeds() throws Exception {
        ScalingRule rule = ScalingRule.fromProdOverlay();
        startServers();
        assertThat(rule.desired(scrape())).as("an idle farm wants no worker").isZero();

        // A burst, a trickle (one build at a time: demand falls, workers drain away while it runs),
        // another burst. Phases follow the builds, not a clock, so a slow machine changes nothing.
        List<Process> builds = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        Deque<String> workers = new ArrayDeque<>();
        List<String> events = new ArrayList<>();
        int peak = 0, removedDuringBuilds = 0, addedAfterRemoval = 0, started = 0, below = 0, trickled = 0;
        Phase phase = Phase.BURST;
        long t0 = System.currentTimeMillis();
        while (phase != Phase.DONE) {
            long inFlight = builds.stream().filter(Process::isAlive).count();
            switch (phase) {
                case BURST -> {
                    for (int i = 0; i < 4; i++) {
                        builds.add(startBuild(builds.size(), logs));
                    }
                    phase = Phase.TRICKLE;
                }
                case TRICKLE -> {
                    // until a worker was removed (at least 2 builds, at most 8)
                    if (inFlight == 0 && (trickled < 2 || removedDuringBuilds == 0) && trickled < 8) {
                        builds.add(startBuild(builds.size(), logs));
                        trickled++;
                    } else if (inFlight == 0) {
                        phase = Phase.SECOND_BURST;
                    }
                }
                case SECOND_BURST -> {
                    for (int i = 0; i < 3; i++) {
                        builds.add(startBuild(builds.size(), logs));
                    }
                    phase = Phase.DRAIN_OUT;
                }
                case DRAIN_OUT -> phase = inFlight == 0 ? Phase.DONE : Phase.DRAIN_OUT;
                case DONE -> {}
            }
            long now = (System.currentTimeMillis() - t0) / 1000;
            int desired = Math.min(rule.desired(scrape()), MOST_WORKERS);
            if (desired > workers.size()) {
                below = 0;
                while (workers.size() < desired) {
                    String name = run + "-w" + ++started;
                    startWorker(name, rule.slotsPerWorker());
                    workers.addLast(name);
                    events.add(now + "s +" + name + " (desired " + desired + ")");
                    if (events.stream().anyMatch(e -> e.contains(" -"))) {
                        addedAfterRemoval++;
                    }
                }
            } else if (desired < workers.size() && ++below >= SCALE_IN_AFTER) {
                below = 0;
                // one at a time, oldest first, busy or not: the drain must make either safe
                String name = workers.removeFirst();
                signal(name, "TERM");
                events.add(now + "s -" + name + " (desired " + desired + ")");
                if (builds.stream().anyMatch(Process::isAlive)) {
                    removedDuringBuilds++;
                }
            } else if (desired >= workers.size()) {
                below = 0;
            }
            peak = Math.max(peak, workers.size());
            Thread.sleep(1000);
            assertThat(System.currentTimeMillis() - t0)
                    .as("the stream of builds took too long: " + events)
                    .isLessThan(TimeUnit.MINUTES.toMillis(20));
        }
        System.out.println("scaling: " + events);

        for (int i = 0; i < builds.size(); i++) {
            assertThat(builds.get(i).exitValue())
                    .as(
                            "build %d succeeded:\n%s\n--- the cache-server's log ends:\n%s\n--- the coordinator's:\n%s",
                            i, Files.readString(logs.get(i)), logTail("cache"), logTail("coordinator"))
                    .isZero();
        }
        assertThat(peak).as("scaled out beyond one worker: " + events).isGreaterThanOrEqualTo(2);
        assertThat(removedDuringBuilds)
                .as("scaled in while builds ran: " + events)
                .isPositive();
        for (String gone : List.copyOf(processes.keySet())) {
            if (!workers.contains(gone) && gone.startsWith(run + "-w")) {
                Process p = processes.get(gone);
                assertThat(p.waitFor(90, TimeUnit.SECONDS))
                        .as(gone + " exited after its drain")
                        .isTrue();
                assertThat(p.exitValue()).as(gone + " drained and exited 0").isZero();
            }
        }
        assertThat(scrape())
                .as("no job was handed back and run again")
                .containsPattern("stagefarm_jobs_redispatched_total(\\{[^}]*\\})? 0\\.0");
    }

    private enum Phase {
        BURST,
        TRICKLE,
        SECOND_BURST,
        DRAIN_OUT,
        DONE
    }

    /** Build {@code i}: two stages that run at once, then a final stage that takes from both. */
    private Process startBuild(int i, List<Path> logs) throws IOException {
        Path log = dir.resolve("build-" + i + ".log");
        logs.add(log);
        Path ctx = Files.createDirectories(dir.resolve("ctx-" + i));
        String nonce = UUID.randomUUID().toString();
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM busybox AS a
                RUN echo %1$s-a && sleep 4 && echo a > /a
                FROM busybox AS b
                RUN echo %1$s-b && sleep 4 && echo b > /b
                FROM busybox
                COPY --from=a /a /a
                COPY --from=b /b /b
                RUN cat /a /b > /ab
                """.formatted(nonce));
        return command(
                        "build",
                        "--coordinator",
                        coordinator,
                        "--progress",
                        "plain",
                        "--output",
                        "type=oci,dest=" + dir.resolve("out-" + i + ".tar"),
                        ctx.toString())
                .redirectOutput(log.toFile())
                .start();
    }

    private void startServers() throws IOException {
        cache = "127.0.0.1:" + freePort();
        coordinator = "127.0.0.1:" + freePort();
        coordinatorMetrics = "127.0.0.1:" + freePort();
        start(
                "cache",
                "cache-server",
                "--listen",
                cache,
                "--data",
                dir.resolve("cache").toString());
        awaitPort(cache);
        // as the KEDA component runs it: at zero workers a build waits for the autoscaler
        start(
                "coordinator",
                "coordinator",
                "--listen",
                coordinator,
                "--cache",
                cache,
                "--metrics",
                coordinatorMetrics,
                "--worker-wait",
                "0",
                "--registry-mirror",
                "docker.io=http://127.0.0.1:5000",
                "--insecure-registry",
                "127.0.0.1:5000");
        awaitPort(coordinator);
        awaitPort(coordinatorMetrics);
    }

    private void startWorker(String name, int slots) throws IOException {
        start(
                name,
                "worker",
                "--coordinator",
                coordinator,
                "--cache",
                cache,
                "--name",
                name,
                "--slots",
                Integer.toString(slots),
                "--drain-timeout",
                "120",
                "--root",
                dir.resolve("workers").resolve(name).toString(),
                "--registry-mirror",
                "docker.io=http://127.0.0.1:5000",
                "--insecure-registry",
                "127.0.0.1:5000");
    }

    private void start(String name, String... args) throws IOException {
        Path log = Files.createDirectories(dir.resolve("logs")).resolve(name + ".log");
        processes.put(name, command(args).redirectOutput(log.toFile()).start());
    }

    /** The last lines a server process wrote, for a failure's message. */
    private String logTail(String name) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("logs").resolve(name + ".log"));
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private static ProcessBuilder command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("bin/stagefarm").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("STAGEFARM_TOKEN");
        pb.environment().put("STAGEFARM_CONFIG", "/nonexistent/stagefarm-deploy-test.properties");
        return pb;
    }

    private void signal(String name, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder(
                        "kill", "-" + signal, Long.toString(processes.get(name).pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).as("kill -%s %s", signal, name).isZero();
    }

    private String scrape() throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(
                            HttpRequest.newBuilder(URI.create("http://" + coordinatorMetrics + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        }
    }

    private static void awaitPort(String hostPort) {
        String[] hp = hostPort.split(":");
        await("something listening on " + hostPort)
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> {
                    try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
                        return true;
                    }
                });
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes.values()) {
            p.destroy();
        }
        for (Map.Entry<String, Process> e : processes.entrySet()) {
            if (!e.getValue().waitFor(30, TimeUnit.SECONDS)) {
                e.getValue().destroyForcibly().waitFor();
            }
        }
    }
}
