package dev.stagefarm.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image as the pods run it: deploy/image/build.sh builds it with stagefarm, the private
 * Docker engine runs the cache-server, the coordinator and a worker from it (host network: that
 * engine has no bridge; the servers as uid 10001 on a read-only root as under `restricted`; the
 * worker with what the privileged namespace grants), and the host's CLI builds examples/go-web
 * through them.
 */
@Tag("e2e")
class ImageRunsTest {

    private static final String IMAGE = "stagefarm:0.1.0";
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);

    private final String run = "sfimg-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<String> started = new ArrayList<>();
    private final Path root = Kustomize.k8sDir().getParent().getParent();
    private Path work;

    @TempDir(cleanup = CleanupMode.NEVER)
    Path temp;

    @Test
    void theComponentsRunFromTheImageAndBuildGoWeb() throws Exception {
        work = temp;
        Path tar = work.resolve("stagefarm.tar");
        exec(Duration.ofMinutes(30), root.resolve("deploy/image/build.sh").toString(), "--output", tar.toString());
        String loaded = docker("load", "-i", tar.toString());
        assertThat(loaded).contains("Loaded image: " + IMAGE);
        long size = Long.parseLong(
                docker("image", "inspect", IMAGE, "--format", "{{.Size}}").strip());
        assertThat(size).as("unpacked image size").isLessThanOrEqualTo(300L * 1000 * 1000);

        int cache = freePort(), data = freePort(), coordinator = freePort();
        int cacheMetrics = freePort(), coordinatorMetrics = freePort(), workerMetrics = freePort();
        Path cacheData = Files.createDirectories(work.resolve("cache"));
        Path workerRoot = Files.createDirectories(work.resolve("worker"));
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
        // What `privileged: true` gives the pod, spelled out: this machine's engine cannot grant
        // CAP_SYS_RESOURCE (its own bounding set lacks it), so --privileged itself is refused here.
        start(
                "worker",
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
                List.of("-v", workerRoot + ":/var/lib/stagefarm-worker"),
                concat(
                        List.of(
                                "worker",
                                "--coordinator",
                                "127.0.0.1:" + coordinator,
                                "--cache",
                                "127.0.0.1:" + cache,
                                "--root",
                                "/var/lib/stagefarm-worker",
                                "--name",
                                run + "-w1",
                                "--metrics",
                                "127.0.0.1:" + workerMetrics),
                        mirror));
        for (int port : List.of(cacheMetrics, coordinatorMetrics, workerMetrics)) {
            awaitHealthy(port);
        }

        Path oci = work.resolve("go-web.oci.tar");
        Path metadata = work.resolve("meta.json");
        String out = exec(
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
                root.resolve("examples/go-web").toString());
        assertThat(out).contains("(on " + run + "-w1)");
        assertThat(Files.size(oci)).isPositive();
        assertThat(Files.readString(metadata)).contains("containerimage.digest").contains(run + "-w1");
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

    private String docker(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker", "-H", dockerHost()));
        command.addAll(List.of(args));
        return exec(Duration.ofMinutes(5), command.toArray(String[]::new));
    }

    /** The private engine of deploy/dev/dockerd.sh (its `env` prints the DOCKER_HOST to use). */
    private String dockerHost() throws Exception {
        String env = exec(
                Duration.ofSeconds(30), root.resolve("deploy/dev/dockerd.sh").toString(), "env");
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
