package dev.stagefarm.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.worker.testing.PatientKubernetesMockServer;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image as the pods run it: deploy/image/build.sh builds it with stagefarm, the private
 * Docker engine runs the cache-server, the coordinator and workers from it (host network: that
 * engine has no bridge; the servers as uid 10001 on a read-only root as under `restricted`; the
 * workers with what the privileged namespace grants), and the host's CLI builds through them:
 * examples/go-web, and a build whose worker is stopped as Kubernetes stops a pod during its RUN.
 */
@Tag("e2e")
class ImageRunsTest {

    private static final String IMAGE = "stagefarm:0.1.0";
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
    /** The workers' --drain-timeout here; the drain test's `docker stop -t` gives them longer. */
    private static final int DRAIN_TIMEOUT = 30;

    private static final Path ROOT = Kustomize.k8sDir().getParent().getParent();
    private static final String SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
    private static final String WORKERS_NAMESPACE = "stagefarm-workers";

    private final String run = "sfimg-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<String> started = new ArrayList<>();
    private final Path root = ROOT;
    private Path work;
    private int coordinator;
    private int coordinatorMetrics;
    /** The API server the workers annotate their pods on (fabric8's, CRUD, HTTPS): none runs here. */
    private final MockWebServer apiWeb = new MockWebServer();

    private KubernetesMockServer api;
    private KubernetesClient kube;

    @TempDir(cleanup = CleanupMode.NEVER)
    Path temp;

    /**
     * Builds the image with build.sh, once for the class. {@code -Dstagefarm.image.tar=PATH} loads a
     * tarball build.sh wrote earlier instead (a developer's shortcut; `.ci/run` never sets it).
     */
    @BeforeAll
    static void buildAndLoadTheImage(@TempDir Path dir) throws Exception {
        String prebuilt = System.getProperty("stagefarm.image.tar", "");
        Path tar = prebuilt.isEmpty() ? dir.resolve("stagefarm.tar") : Path.of(prebuilt);
        if (prebuilt.isEmpty()) {
            exec(Duration.ofMinutes(30), ROOT.resolve("deploy/image/build.sh").toString(), "--output", tar.toString());
        }
        String loaded = docker("load", "-i", tar.toString());
        assertThat(loaded).contains("Loaded image: " + IMAGE);
        long size = Long.parseLong(
                docker("image", "inspect", IMAGE, "--format", "{{.Size}}").strip());
        assertThat(size).as("unpacked image size").isLessThanOrEqualTo(300L * 1000 * 1000);
    }

    @Test
    void theComponentsRunFromTheImageAndBuildGoWeb() throws Exception {
        startFarm("w1");
        Path oci = work.resolve("go-web.oci.tar");
        Path metadata = work.resolve("meta.json");
        CompletableFuture<String> building = CompletableFuture.supplyAsync(() -> execUnchecked(
                BUILD_TIMEOUT,
                root.resolve("bin/stagefarm").toString(),
                "build",
                "--coordinator",
                "127.0.0.1:" + coordinator,
                "-t",
                "go-web:" + run,
                "--output",
                "type=oci,dest=" + oci,
                "--metadata-file",
                metadata.toString(),
                "--progress",
                "plain",
                root.resolve("examples/go-web").toString()));
        // the worker keeps its pod's pod-deletion-cost current: busy while it builds, low after
        int busiest = 0;
        while (!building.isDone()) {
            busiest = Math.max(busiest, deletionCost("w1"));
            Thread.sleep(500);
        }
        String out = building.get();
        assertThat(busiest).as("pod-deletion-cost while a job ran").isGreaterThanOrEqualTo(1_000_000);
        await("pod-deletion-cost back to idle")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> deletionCost("w1"), c -> c > 0 && c < 1_000_000);
        assertThat(out).contains("(on " + run + "-w1)");
        assertThat(Files.size(oci)).isPositive();
        assertThat(Files.readString(metadata)).contains("containerimage.digest").contains(run + "-w1");
    }

    /**
     * Scale-in as the kubelet does it: SIGTERM to the worker's container during a RUN, SIGKILL only
     * after the grace period, which is longer than the drain timeout (terminationGracePeriodSeconds
     * 660 against --drain-timeout 600 in the manifests; `docker stop -t` here). The worker finishes
     * the RUN, reports it and exits 0 before the kill; the build succeeds and the step ran once
     * (SharedQueueEndToEndTest's drain test, with the image's entrypoint as PID 1).
     */
    @Test
    void aWorkerStoppedDuringARunWithGraceBeyondItsDrainTimeoutFinishesItOnceAndTheBuildSucceeds() throws Exception {
        startFarm("w1", "w2");
        Path ctx = Files.createDirectories(work.resolve("drain"));
        // the nonce keeps the step out of any cache; 8 s is well inside the drain timeout. The
        // second step is hostile: the worker's service-account token (which may patch pods) is
        // mounted in its container, as in the pod, and no step may read it.
        Files.writeString(
                ctx.resolve("Dockerfile"),
                "FROM busybox\nRUN echo " + UUID.randomUUID() + " && sleep 8 && echo drained > /drained\n"
                        + "RUN test ! -e " + SERVICE_ACCOUNT + "/token"
                        + " && ! grep -rqs " + fakeToken() + " /proc/1/environ /var/run /run /etc\n");
        Path progress = work.resolve("drain.log");
        Process build = new ProcessBuilder(
                        root.resolve("bin/stagefarm").toString(),
                        "build",
                        "--coordinator",
                        "127.0.0.1:" + coordinator,
                        "--progress",
                        "plain",
                        "--output",
                        "type=oci,dest=" + work.resolve("drain.oci.tar"),
                        ctx.toString())
                .redirectErrorStream(true)
                .redirectOutput(progress.toFile())
                .start();
        Pattern running = Pattern.compile("RUN echo .*\\(on (" + Pattern.quote(run) + "-w\\d)\\)");
        String victim = await("the RUN started on a worker")
                .atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofMillis(100))
                .until(
                        () -> {
                            Matcher m = running.matcher(Files.readString(progress));
                            return m.find() ? m.group(1) : null;
                        },
                        w -> w != null);

        int grace = DRAIN_TIMEOUT * 2;
        long stopping = System.nanoTime();
        CompletableFuture<String> stop =
                CompletableFuture.supplyAsync(() -> dockerUnchecked("stop", "-t", Integer.toString(grace), victim));

        assertThat(build.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as("the build finished")
                .isTrue();
        String out = Files.readString(progress);
        assertThat(build.exitValue()).as("the build succeeded:\n" + out).isZero();
        assertThat(out)
                .as("the RUN finished on the stopped worker, and ran once")
                .containsOnlyOnce("RUN echo")
                .contains("(on " + victim + ")");
        stop.get(grace + 30L, TimeUnit.SECONDS);
        Duration stopped = Duration.ofNanos(System.nanoTime() - stopping);
        assertThat(docker("inspect", "--format", "{{.State.ExitCode}}", victim).strip())
                .as("the worker exited by itself, drained (137 would be docker's SIGKILL)")
                .isEqualTo("0");
        assertThat(stopped).as("it exited before the grace period ran out").isLessThan(Duration.ofSeconds(grace));
        assertThat(docker("logs", victim)).contains("draining");
        assertThat(scrape(coordinatorMetrics))
                .as("no job was handed back and run again")
                .containsPattern("stagefarm_jobs_redispatched_total(\\{[^}]*\\})? 0\\.0");
    }

    /** The cache-server, the coordinator and workers named {@code RUN-w…} (their containers too), from the image. */
    private void startFarm(String... workers) throws Exception {
        work = temp;
        int cache = freePort(), data = freePort(), cacheMetrics = freePort();
        coordinator = freePort();
        coordinatorMetrics = freePort();
        Path cacheData = Files.createDirectories(work.resolve("cache"));
        exec(Duration.ofSeconds(10), "chown", "10001:10001", cacheData.toString());
        List<String> mirror = List.of(
                "--registry-mirror", "docker.io=http://127.0.0.1:5000", "--insecure-registry", "127.0.0.1:5000");

        // restricted: uid 10001, read-only root, a writable /tmp (an emptyDir in the pod)
        List<String> restricted = List.of("--user", "10001:10001", "--read-only", "--tmpfs", "/tmp:exec");
        start(
                "cache",
                restricted,
                List.of("-v", cacheData + ":/data"),
                List.of(
                        "cache-server",
                        "--listen",
                        "127.0.0.1:" + cache,
                        "--data-listen",
                        "127.0.0.1:" + data,
                        "--data",
                        "/data",
                        "--max-size",
                        "4GiB",
                        "--metrics",
                        "127.0.0.1:" + cacheMetrics));
        start(
                "coordinator",
                restricted,
                List.of(),
                concat(
                        List.of(
                                "coordinator",
                                "--listen",
                                "127.0.0.1:" + coordinator,
                                "--cache",
                                "127.0.0.1:" + cache,
                                "--metrics",
                                "127.0.0.1:" + coordinatorMetrics),
                        mirror));
        Path serviceAccount = Files.createDirectories(work.resolve("serviceaccount"));
        Files.writeString(serviceAccount.resolve("token"), fakeToken());
        api = new PatientKubernetesMockServer(apiWeb);
        api.init();
        kube = api.createClient();
        Files.copy(Path.of(apiWeb.getSelfSignedCertificate().certificatePath()), serviceAccount.resolve("ca.crt"));
        List<Integer> metrics = new ArrayList<>(List.of(cacheMetrics, coordinatorMetrics));
        for (String worker : workers) {
            int workerMetrics = freePort();
            metrics.add(workerMetrics);
            Path workerRoot = Files.createDirectories(work.resolve(worker));
            Files.createDirectories(Path.of("/run/stagefarm-net"));
            kube.pods()
                    .inNamespace(WORKERS_NAMESPACE)
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName(run + "-" + worker)
                            .endMetadata()
                            .build())
                    .create();
            // What `privileged: true` gives the pod, spelled out: this machine's engine cannot grant
            // CAP_SYS_RESOURCE (its own bounding set lacks it), so --privileged itself is refused here.
            start(
                    worker,
                    List.of(
                            "--cgroupns",
                            "host",
                            "--cap-add",
                            "ALL",
                            "--cap-drop",
                            "SYS_RESOURCE",
                            "--security-opt",
                            "seccomp=unconfined",
                            "--security-opt",
                            "apparmor=unconfined",
                            "--security-opt",
                            "systempaths=unconfined",
                            "-v",
                            "/sys/fs/cgroup:/sys/fs/cgroup:rw"),
                    // Pods have a network namespace each; these containers share the host's. So the
                    // workers here need what distinct pods have anyway: distinct roots (the step
                    // network's bridge and iptables chains are named from the root) and one subnet
                    // lease directory, the host's, where each takes a /24 no other worker holds.
                    List.of(
                            "-v",
                            workerRoot + ":/var/lib/stagefarm-worker",
                            "-v",
                            "/run/stagefarm-net:/run/stagefarm-net",
                            // what automountServiceAccountToken, the downward API and the kubelet give the pod
                            "-v",
                            serviceAccount + ":" + SERVICE_ACCOUNT + ":ro",
                            "-e",
                            "POD_NAME=" + run + "-" + worker,
                            "-e",
                            "POD_NAMESPACE=" + WORKERS_NAMESPACE,
                            "-e",
                            "KUBERNETES_SERVICE_HOST=127.0.0.1",
                            "-e",
                            "KUBERNETES_SERVICE_PORT=" + apiWeb.getPort()),
                    concat(
                            List.of(
                                    "worker",
                                    "--coordinator",
                                    "127.0.0.1:" + coordinator,
                                    "--cache",
                                    "127.0.0.1:" + cache,
                                    "--root",
                                    "/var/lib/stagefarm-worker/" + run + "-" + worker,
                                    "--name",
                                    run + "-" + worker,
                                    "--drain-timeout",
                                    Integer.toString(DRAIN_TIMEOUT),
                                    "--metrics",
                                    "127.0.0.1:" + workerMetrics),
                            mirror));
        }
        for (int port : metrics) {
            awaitHealthy(port);
        }
        await(workers.length + " workers connected to the coordinator")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> scrape(coordinatorMetrics), m -> connected(m) >= workers.length);
    }

    /** The pod's service-account token as these workers' containers have it (no API server here). */
    private String fakeToken() {
        return "sa-token-" + run;
    }

    /** The pod-deletion-cost on worker {@code w}'s pod; -1 while it has none. */
    private int deletionCost(String worker) {
        var annotations = kube.pods()
                .inNamespace(WORKERS_NAMESPACE)
                .withName(run + "-" + worker)
                .get()
                .getMetadata()
                .getAnnotations();
        String cost = annotations == null ? null : annotations.get("controller.kubernetes.io/pod-deletion-cost");
        return cost == null ? -1 : Integer.parseInt(cost);
    }

    private static String execUnchecked(Duration timeout, String... command) {
        try {
            return exec(timeout, command);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code stagefarm_workers_connected} in a scrape. */
    private static double connected(String metrics) {
        Matcher m = Pattern.compile("(?m)^stagefarm_workers_connected(\\{[^}]*\\})? ([0-9.]+)$")
                .matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(2)) : 0;
    }

    private static String scrape(int port) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        }
    }

    private static String dockerUnchecked(String... args) {
        try {
            return docker(args);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (String name : started) {
            try {
                System.err.println("--- docker logs " + name + "\n" + docker("logs", "--tail", "30", name));
            } catch (AssertionError e) {
                // the container never started; its start() already failed the test
            }
            docker("rm", "-f", name);
        }
        if (kube != null) {
            kube.close();
            api.destroy();
        }
        if (work != null) {
            // the worker's snapshot trees (its overlay mounts went with its container)
            exec(Duration.ofMinutes(2), "rm", "-rf", work.toString());
        }
    }

    private void start(String role, List<String> security, List<String> volumes, List<String> args) throws Exception {
        String name = run + "-" + role;
        List<String> command = new ArrayList<>(List.of("run", "-d", "--name", name, "--network", "host"));
        command.addAll(security);
        command.addAll(volumes);
        command.add(IMAGE);
        command.addAll(args);
        started.add(name);
        docker(command.toArray(String[]::new));
    }

    private static void awaitHealthy(int port) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest healthz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                .build();
        await("a healthy /healthz on port " + port)
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(
                        () -> http.send(healthz, HttpResponse.BodyHandlers.ofString()),
                        r -> r.statusCode() == 200 && r.body().equals("ok\n"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static String docker(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker", "-H", dockerHost()));
        command.addAll(List.of(args));
        return exec(Duration.ofMinutes(5), command.toArray(String[]::new));
    }

    /** The private engine of deploy/dev/dockerd.sh (its `env` prints the DOCKER_HOST to use). */
    private static String dockerHost() throws Exception {
        String env = exec(
                Duration.ofSeconds(30), ROOT.resolve("deploy/dev/dockerd.sh").toString(), "env");
        return env.replaceAll("(?s).*DOCKER_HOST=['\"]?([^'\"\\s]+).*", "$1");
    }

    private static String exec(Duration timeout, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the process died; its exit code says so
            }
        });
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout);
        }
        reader.join();
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed (" + p.exitValue() + "):\n" + out);
        }
        return out.toString();
    }
}
