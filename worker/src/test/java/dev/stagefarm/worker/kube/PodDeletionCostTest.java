package dev.stagefarm.worker.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.worker.testing.PatientKubernetesMockServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's PATCH of its own pod against fabric8's mock API server, in CRUD mode over HTTPS:
 * the server stores the pod, applies the merge patch as the API server does (and refuses a
 * content type it would refuse), and the pod read back carries the cost.
 */
class PodDeletionCostTest {

    private static final String NAMESPACE = "stagefarm-workers";
    private static final String POD = "stagefarm-worker-7d9c-x2x";

    @TempDir
    Path dir;

    private final MockWebServer web = new MockWebServer();
    private KubernetesMockServer server;
    private KubernetesClient kube;
    private InCluster inCluster;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicLong local = new AtomicLong();

    @BeforeEach
    void startApiServer() throws Exception {
        server = new PatientKubernetesMockServer(web);
        server.init();
        kube = server.createClient();
        kube.pods()
                .inNamespace(NAMESPACE)
                .resource(new PodBuilder()
                        .withNewMetadata()
                        .withName(POD)
                        .withNamespace(NAMESPACE)
                        .endMetadata()
                        .build())
                .create();
        web.takeRequest(60, TimeUnit.SECONDS); // the create above
        Path sa = Files.createDirectories(dir.resolve("serviceaccount"));
        Files.writeString(sa.resolve("token"), "token-one\n");
        Files.copy(Path.of(web.getSelfSignedCertificate().certificatePath()), sa.resolve("ca.crt"));
        inCluster = InCluster.detect(
                        Map.of(
                                "POD_NAME",
                                POD,
                                "POD_NAMESPACE",
                                NAMESPACE,
                                "KUBERNETES_SERVICE_HOST",
                                "127.0.0.1",
                                "KUBERNETES_SERVICE_PORT",
                                Integer.toString(web.getPort())),
                        sa)
                .orElseThrow();
    }

    @AfterEach
    void stop() {
        kube.close();
        server.destroy();
    }

    @Test
    void theCostFollowsTheWorkersLoadAndIdleAndEmptyIsTheLeast() throws Exception {
        try (PodDeletionCost cost = new PodDeletionCost(
                new PodPatcher(inCluster),
                () -> PodDeletionCost.of(running.get(), local.get()),
                Duration.ofSeconds(10),
                "w1")) {
            assertThat(cost.update()).isTrue();
            RecordedRequest patch = web.takeRequest(60, TimeUnit.SECONDS);
            assertThat(patch.getMethod()).isEqualTo("PATCH");
            assertThat(patch.getPath()).isEqualTo("/api/v1/namespaces/" + NAMESPACE + "/pods/" + POD);
            assertThat(patch.getHeader("Content-Type")).isEqualTo("application/merge-patch+json");
            assertThat(patch.getHeader("Authorization")).isEqualTo("Bearer token-one");
            // (the body: the dispatcher consumed it; its effect, the stored annotation, is read back below)
            int idle = annotation();
            assertThat(idle).isZero();

            local.set(3L << 30);
            assertThat(cost.update()).isTrue();
            int cached = annotation();
            running.set(1);
            assertThat(cost.update()).isTrue();
            int busy = annotation();
            running.set(2);
            cost.update();
            int busier = annotation();
            assertThat(idle).isLessThan(cached);
            assertThat(cached).isLessThan(busy);
            assertThat(busy).isLessThan(busier);

            running.set(0);
            local.set(0);
            cost.update();
            assertThat(annotation()).as("idle and empty again").isZero();
            // the pod keeps what else it had: a merge patch, not a replacement
            assertThat(kube.pods()
                            .inNamespace(NAMESPACE)
                            .withName(POD)
                            .get()
                            .getMetadata()
                            .getName())
                    .isEqualTo(POD);
        }
    }

    @Test
    void anUnchangedCostIsNotPatchedAgainAndChecksComeAtMostOncePerInterval() throws Exception {
        try (PodDeletionCost cost = new PodDeletionCost(
                new PodPatcher(inCluster),
                () -> PodDeletionCost.of(running.get(), local.get()),
                Duration.ofMillis(500),
                "w1")) {
            assertThat(cost.update()).isTrue();
            assertThat(cost.update()).as("same cost: no request").isFalse();
            int before = web.getRequestCount();
            cost.start();
            long started = System.nanoTime();
            // the load changes 40 times in 2 s: a PATCH each time would be 40 requests
            for (int i = 1; i <= 40; i++) {
                running.set(i % 3);
                Thread.sleep(50);
            }
            double intervals = (System.nanoTime() - started) / 500e6;
            assertThat(web.getRequestCount() - before)
                    .as("PATCHes in %.1f intervals", intervals)
                    .isLessThanOrEqualTo((int) Math.ceil(intervals) + 1);
        }
    }

    @Test
    void theTokenIsReadAgainForEveryPatchAsTheKubeletRotatesIt() throws Exception {
        try (PodPatcher patcher = new PodPatcher(inCluster)) {
            patcher.annotate(PodDeletionCost.ANNOTATION, "1");
            assertThat(web.takeRequest(60, TimeUnit.SECONDS).getHeader("Authorization"))
                    .isEqualTo("Bearer token-one");
            Files.writeString(inCluster.tokenFile(), "token-two");
            patcher.annotate(PodDeletionCost.ANNOTATION, "2");
            assertThat(web.takeRequest(60, TimeUnit.SECONDS).getHeader("Authorization"))
                    .isEqualTo("Bearer token-two");
        }
    }

    @Test
    void aServerTheClustersCaDidNotSignIsRefused() throws Exception {
        // another self-signed server: same host name, a certificate the worker's CA file does not hold
        MockWebServer other = new MockWebServer();
        other.useHttps();
        other.start();
        try (PodPatcher patcher = new PodPatcher(new InCluster(
                URI.create("https://127.0.0.1:" + other.getPort()),
                NAMESPACE,
                POD,
                inCluster.tokenFile(),
                inCluster.caFile()))) {
            assertThatThrownBy(() -> patcher.annotate(PodDeletionCost.ANNOTATION, "1"))
                    .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
            assertThat(other.getRequestCount()).as("the token never went to it").isZero();
        } finally {
            other.shutdown();
        }
    }

    @Test
    void aPodThatDoesNotExistIsASentenceSayingWhereTheNameComesFrom() throws Exception {
        try (PodPatcher patcher = new PodPatcher(new InCluster(
                inCluster.apiServer(), NAMESPACE, "not-this-pod", inCluster.tokenFile(), inCluster.caFile()))) {
            assertThatThrownBy(() -> patcher.annotate(PodDeletionCost.ANNOTATION, "1"))
                    .hasMessageContaining("(404)")
                    .hasMessageContaining("downward API");
        }
    }

    @Test
    void inAPodWithoutATokenTheWorkerSaysWhatTheManifestLacks() {
        Map<String, String> env = Map.of(
                "POD_NAME",
                POD,
                "POD_NAMESPACE",
                NAMESPACE,
                "KUBERNETES_SERVICE_HOST",
                "10.96.0.1",
                "KUBERNETES_SERVICE_PORT",
                "443");
        assertThatThrownBy(() -> InCluster.detect(env, dir.resolve("none")))
                .isInstanceOf(InCluster.Incomplete.class)
                .hasMessageContaining("automountServiceAccountToken: true");
        assertThat(catchDetect(Map.of())).as("not in a pod").isEmpty();
    }

    @Test
    void anIpv6ApiServerAddressIsBracketed() throws Exception {
        Path sa = inCluster.tokenFile().getParent();
        InCluster v6 = InCluster.detect(
                        Map.of(
                                "POD_NAME",
                                POD,
                                "POD_NAMESPACE",
                                NAMESPACE,
                                "KUBERNETES_SERVICE_HOST",
                                "fd00::1",
                                "KUBERNETES_SERVICE_PORT",
                                "443"),
                        sa)
                .orElseThrow();
        assertThat(v6.apiServer()).isEqualTo(URI.create("https://[fd00::1]:443"));
    }

    private java.util.Optional<InCluster> catchDetect(Map<String, String> env) {
        try {
            return InCluster.detect(env, dir);
        } catch (InCluster.Incomplete e) {
            throw new AssertionError(e);
        }
    }

    private int annotation() {
        Pod pod = kube.pods().inNamespace(NAMESPACE).withName(POD).get();
        return Integer.parseInt(pod.getMetadata().getAnnotations().get(PodDeletionCost.ANNOTATION));
    }
}
