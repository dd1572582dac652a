package dev.stagefarm.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.cli.CliParser;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every overlay of deploy/k8s as a cluster would receive it: rendered by kubectl kustomize,
 * checked strictly against the Kubernetes API (fabric8's model) and the KEDA and Prometheus
 * Operator CRDs, and every container's args parsed by the real CLI.
 */
@Tag("e2e")
class ManifestsTest {

    private static final Map<String, List<JsonNode>> RENDERED = new LinkedHashMap<>();
    private static CrdSchema crds;

    @BeforeAll
    static void render() throws Exception {
        crds = CrdSchema.load("/crds/keda.sh_scaledobjects.yaml", "/crds/monitoring.coreos.com_servicemonitors.yaml");
        for (Path overlay : Kustomize.overlays()) {
            RENDERED.put(overlay.getFileName().toString(), Kustomize.render(overlay));
        }
    }

    @Test
    void everyOverlayRendersAndEveryObjectFitsItsSchemaStrictly() {
        assertThat(RENDERED.keySet()).contains("dev", "prod", "prod-hpa");
        List<String> problems = new ArrayList<>();
        RENDERED.forEach((overlay, objects) -> {
            assertThat(objects).as(overlay).isNotEmpty();
            for (JsonNode o : objects) {
                List<String> found = ApiSchema.knows(o) ? ApiSchema.problems(o) : crds.problems(o);
                found.forEach(p -> problems.add(overlay + ": " + p));
            }
        });
        assertThat(problems).isEmpty();
        assertThat(kinds("prod")).contains("ScaledObject", "ServiceMonitor", "NetworkPolicy", "PodDisruptionBudget");
        assertThat(kinds("prod-hpa")).contains("HorizontalPodAutoscaler").doesNotContain("ScaledObject");
    }

    @Test
    void everyContainerArgumentParsesWithTheRealCli() {
        List<String> roles = new ArrayList<>();
        RENDERED.forEach((overlay, objects) -> {
            for (Workloads.Container c : Workloads.containers(objects)) {
                assertThat(c.spec().path("image").asText()).as(c.owner()).contains("stagefarm");
                assertThatCode(() -> CliParser.parse(c.args()))
                        .as(overlay + ": " + c.owner() + " " + c.args())
                        .doesNotThrowAnyException();
                roles.add(overlay + ":" + c.args().getFirst());
            }
        });
        assertThat(roles).contains("dev:cache-server", "dev:coordinator", "dev:worker", "prod:worker");
    }

    @Test
    void theCacheServersMaxSizeIs85PercentOfItsVolume() {
        RENDERED.forEach((overlay, objects) -> {
            JsonNode cache = find(objects, "StatefulSet", "stagefarm-cache");
            Workloads.Container server = container(objects, "StatefulSet", "stagefarm-cache");
            long volume = bytes(cache.path("spec")
                    .path("volumeClaimTemplates")
                    .get(0)
                    .path("spec")
                    .path("resources")
                    .path("requests")
                    .path("storage")
                    .asText());
            long maxSize = Units.parseSize(flag(server.args(), "--max-size"));
            assertThat((double) maxSize / volume).as(overlay).isBetween(0.84, 0.86);
        });
    }

    @Test
    void aFarmScaledToZeroLetsItsFirstBuildWaitForKedaToWakeAWorker() {
        assertThat(flag(
                        container(RENDERED.get("prod"), "Deployment", "stagefarm-coordinator")
                                .args(),
                        "--worker-wait"))
                .as("prod: KEDA takes minutes to bring the first worker; 0 waits as long as the build lasts")
                .isEqualTo("0");
        for (String overlay : List.of("dev", "prod-hpa")) {
            assertThat(container(RENDERED.get(overlay), "Deployment", "stagefarm-coordinator")
                            .args())
                    .as(overlay + ": never without a worker for long, a build fails after the default wait")
                    .doesNotContain("--worker-wait");
        }
    }

    @Test
    void theAutoscalersAskForQueuedPlusRunningJobsOverTheWorkersSlots() {
        for (String overlay : List.of("prod", "prod-hpa")) {
            List<JsonNode> objects = RENDERED.get(overlay);
            String slots =
                    flag(container(objects, "Deployment", "stagefarm-worker").args(), "--slots");
            JsonNode worker = find(objects, "Deployment", "stagefarm-worker");
            assertThat(worker.path("spec").has("replicas"))
                    .as(overlay + ": the autoscaler owns replicas")
                    .isFalse();
            if (overlay.equals("prod")) {
                JsonNode trigger = find(objects, "ScaledObject", "stagefarm-worker")
                        .path("spec")
                        .path("triggers")
                        .get(0);
                assertThat(trigger.path("metricType").asText()).isEqualTo("AverageValue");
                assertThat(trigger.path("metadata").path("threshold").asText()).isEqualTo(slots);
                assertThat(trigger.path("metadata").path("query").asText())
                        .isEqualTo(
                                "(sum(stagefarm_jobs_queued) or vector(0)) + (sum(stagefarm_jobs_running) or vector(0))");
            } else {
                JsonNode target = find(objects, "HorizontalPodAutoscaler", "stagefarm-worker")
                        .path("spec")
                        .path("metrics")
                        .get(0)
                        .path("external");
                assertThat(target.path("metric").path("name").asText()).isEqualTo("stagefarm_jobs_demand");
                assertThat(target.path("target").path("type").asText()).isEqualTo("AverageValue");
                assertThat(target.path("target").path("averageValue").asText()).isEqualTo(slots);
            }
        }
    }

    @Test
    void everyContainerIsProbedSizedAndSecuredForItsNamespace() {
        RENDERED.forEach((overlay, objects) -> {
            for (Workloads.Container c : Workloads.containers(objects)) {
                String where = overlay + ": " + c.owner();
                JsonNode spec = c.spec();
                for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                    JsonNode get = spec.path(probe).path("httpGet");
                    assertThat(get.path("path").asText())
                            .as(where + " " + probe)
                            .isEqualTo("/healthz");
                    assertThat(get.path("port").asText())
                            .as(where + " " + probe)
                            .isEqualTo("metrics");
                }
                String metricsPort = flag(c.args(), "--metrics").replaceFirst(".*:", "");
                assertThat(spec.path("ports").findValuesAsText("containerPort"))
                        .as(where)
                        .contains(metricsPort);
                assertThat(spec.path("resources").path("limits").has("memory"))
                        .as(where)
                        .isTrue();
                assertThat(spec.path("resources").path("requests").has("cpu"))
                        .as(where)
                        .isTrue();
                assertThat(c.env().get("STAGEFARM_JAVA_OPTS")).as(where).contains("-XX:MaxRAMPercentage=");

                String level = namespaceLabel(objects, c, "pod-security.kubernetes.io/enforce");
                boolean privileged =
                        spec.path("securityContext").path("privileged").asBoolean();
                if (level.equals("restricted")) {
                    assertThat(privileged).as(where).isFalse();
                    assertThat(c.pod()
                                    .path("securityContext")
                                    .path("runAsNonRoot")
                                    .asBoolean())
                            .as(where)
                            .isTrue();
                    assertThat(c.pod()
                                    .path("securityContext")
                                    .path("seccompProfile")
                                    .path("type")
                                    .asText())
                            .as(where)
                            .isEqualTo("RuntimeDefault");
                    assertThat(spec.path("securityContext")
                                    .path("allowPrivilegeEscalation")
                                    .asBoolean(true))
                            .as(where)
                            .isFalse();
                    assertThat(spec.path("securityContext")
                                    .path("capabilities")
                                    .path("drop")
                                    .toString())
                            .as(where)
                            .contains("ALL");
                } else {
                    assertThat(level).as(where).isEqualTo("privileged");
                    assertThat(c.args().getFirst())
                            .as(where + ": only workers are privileged")
                            .isEqualTo("worker");
                }
            }
        });
    }

    @Test
    void aWorkersSnapshotsFitItsEphemeralStorageLimit() {
        RENDERED.forEach((overlay, objects) -> {
            Workloads.Container worker = container(objects, "Deployment", "stagefarm-worker");
            JsonNode root = null;
            for (JsonNode v : worker.pod().path("volumes")) {
                if (v.has("emptyDir") && v.path("name").asText().equals("root")) {
                    root = v;
                }
            }
            assertThat(root).as(overlay + ": the worker's root is an emptyDir").isNotNull();
            assertThat(flag(worker.args(), "--root")).isEqualTo("/var/lib/stagefarm-worker");
            long sizeLimit = bytes(root.path("emptyDir").path("sizeLimit").asText());
            JsonNode resources = worker.spec().path("resources");
            long limit =
                    bytes(resources.path("limits").path("ephemeral-storage").asText());
            assertThat(bytes(
                            resources.path("requests").path("ephemeral-storage").asText()))
                    .isPositive();
            assertThat(sizeLimit).as(overlay).isLessThanOrEqualTo(limit);
            long grace = worker.pod().path("terminationGracePeriodSeconds").asLong();
            assertThat(grace).as(overlay + ": grace covers a 10m drain").isGreaterThanOrEqualTo(600);
        });
    }

    /**
     * The kubelet evicts a worker whose emptyDir passes its limit, so the worker's own budget
     * ({@code --max-local-size}, which evicts snapshots and blobs) sits at 75% of it, and the rest
     * holds what the budget cannot evict: each slot's job in flight (~2Gi a golang stage), cache
     * mounts, runc state and logs.
     */
    @Test
    void aWorkersDiskBudgetLeavesItsJobsInFlightRoomBelowTheEphemeralStorageLimit() {
        RENDERED.forEach((overlay, objects) -> {
            Workloads.Container worker = container(objects, "Deployment", "stagefarm-worker");
            long budget = Units.parseSize(flag(worker.args(), "--max-local-size"));
            long limit = bytes(worker.spec()
                    .path("resources")
                    .path("limits")
                    .path("ephemeral-storage")
                    .asText());
            for (JsonNode v : worker.pod().path("volumes")) {
                if (v.path("name").asText().equals("root")) {
                    limit = Math.min(
                            limit, bytes(v.path("emptyDir").path("sizeLimit").asText()));
                }
            }
            int slots = Integer.parseInt(flag(worker.args(), "--slots"));
            assertThat((double) budget / limit).as(overlay).isBetween(0.70, 0.80);
            assertThat(limit - budget)
                    .as(overlay + ": room for --slots jobs in flight of 2Gi each")
                    .isGreaterThanOrEqualTo(slots * (2L << 30));
        });
    }

    /**
     * The worker patches its own pod's pod-deletion-cost: its pod mounts the service account's
     * token, knows its name and namespace from the downward API, and that account may patch pods
     * in the workers' namespace and do nothing else, anywhere else.
     */
    @Test
    void aWorkerMayPatchThePodsOfItsNamespaceAndNothingElse() {
        RENDERED.forEach((overlay, objects) -> {
            Workloads.Container worker = container(objects, "Deployment", "stagefarm-worker");
            String account = worker.pod().path("serviceAccountName").asText();
            assertThat(worker.pod().path("automountServiceAccountToken").asBoolean())
                    .as(overlay)
                    .isTrue();
            assertThat(fieldRef(worker, "POD_NAME")).as(overlay).isEqualTo("metadata.name");
            assertThat(fieldRef(worker, "POD_NAMESPACE")).as(overlay).isEqualTo("metadata.namespace");
            List<String> grants = new ArrayList<>();
            for (JsonNode binding : objects) {
                String kind = binding.path("kind").asText();
                assertThat(kind).as(overlay + ": no cluster-wide grant").isNotIn("ClusterRole", "ClusterRoleBinding");
                if (!kind.equals("RoleBinding")) {
                    continue;
                }
                String namespace = binding.path("metadata").path("namespace").asText();
                boolean forWorker = false;
                for (JsonNode subject : binding.path("subjects")) {
                    forWorker |= subject.path("name").asText().equals(account)
                            && subject.path("namespace").asText().equals("stagefarm-workers");
                }
                if (!forWorker) {
                    continue;
                }
                JsonNode role = find(
                        objects, "Role", binding.path("roleRef").path("name").asText());
                assertThat(role.path("metadata").path("namespace").asText()).isEqualTo(namespace);
                for (JsonNode rule : role.path("rules")) {
                    grants.add(namespace + " " + rule.path("apiGroups") + " " + rule.path("resources") + " "
                            + rule.path("verbs") + (rule.has("resourceNames") ? " names" : ""));
                }
            }
            assertThat(grants).as(overlay).containsExactly("stagefarm-workers [\"\"] [\"pods\"] [\"patch\"]");
        });
    }

    private static String fieldRef(Workloads.Container c, String env) {
        for (JsonNode e : c.spec().path("env")) {
            if (e.path("name").asText().equals(env)) {
                return e.path("valueFrom").path("fieldRef").path("fieldPath").asText();
            }
        }
        throw new AssertionError(c.owner() + " has no env " + env);
    }

    private List<String> kinds(String overlay) {
        return RENDERED.get(overlay).stream().map(o -> o.path("kind").asText()).toList();
    }

    static JsonNode find(List<JsonNode> objects, String kind, String name) {
        return objects.stream()
                .filter(o -> o.path("kind").asText().equals(kind)
                        && o.path("metadata").path("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    static Workloads.Container container(List<JsonNode> objects, String kind, String name) {
        String owner = Kustomize.describe(find(objects, kind, name));
        return Workloads.containers(objects).stream()
                .filter(c -> c.owner().startsWith(owner + " container "))
                .findFirst()
                .orElseThrow();
    }

    private static String namespaceLabel(List<JsonNode> objects, Workloads.Container c, String label) {
        String namespace = c.owner().split(" ")[1].split("/")[0];
        return find(objects, "Namespace", namespace)
                .path("metadata")
                .path("labels")
                .path(label)
                .asText();
    }

    static String flag(List<String> args, String name) {
        int i = args.indexOf(name);
        assertThat(i).as(name + " in " + args).isNotNegative();
        return args.get(i + 1);
    }

    private static long bytes(String quantity) {
        return Quantity.getAmountInBytes(new Quantity(quantity))
                .setScale(0, RoundingMode.UP)
                .longValueExact();
    }
}
