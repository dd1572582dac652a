package dev.stagefarm.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.cli.CliParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The mistakes the manifest checks exist for, each made on purpose in a real rendered overlay. */
@Tag("e2e")
class ValidatorsCatchMistakesTest {

    private final List<JsonNode> dev;
    private final List<JsonNode> prod;

    ValidatorsCatchMistakesTest() throws Exception {
        dev = Kustomize.render(Kustomize.k8sDir().resolve("overlays/dev"));
        prod = Kustomize.render(Kustomize.k8sDir().resolve("overlays/prod"));
    }

    @Test
    void aMisspeltFieldDeepInAPodTemplateIsRefused() {
        JsonNode worker =
                ManifestsTest.find(dev, "Deployment", "stagefarm-worker").deepCopy();
        assertThat(ApiSchema.problems(worker)).isEmpty();
        ObjectNode container = (ObjectNode) worker.path("spec")
                .path("template")
                .path("spec")
                .path("containers")
                .get(0);
        ((ObjectNode) container.path("startupProbe")).put("failureTreshold", 60);
        ((ObjectNode) worker.path("spec")).put("replica", 3);

        assertThat(String.join("\n", ApiSchema.problems(worker)))
                .contains("Deployment stagefarm-workers/stagefarm-worker: unknown field")
                .contains("failureTreshold")
                .contains("replica");
    }

    @Test
    void aMisspeltRuleInTheWorkersRoleIsRefused() {
        JsonNode role = ManifestsTest.find(dev, "Role", "stagefarm-worker-deletion-cost")
                .deepCopy();
        assertThat(ApiSchema.problems(role)).isEmpty();
        ((ObjectNode) role.path("rules").get(0)).putArray("verb").add("patch");
        assertThat(String.join("\n", ApiSchema.problems(role))).contains("unknown field rules[0].verb");
    }

    /** The scale test's reading of the ScaledObject: Prometheus' answer over the threshold, rounded up. */
    @Test
    void theScaleTestsRuleIsTheScaledObjectsQueryOverItsThreshold() throws Exception {
        ScalingRule rule = ScalingRule.fromProdOverlay();
        assertThat(rule.slotsPerWorker()).isEqualTo(2);
        assertThat(rule.desired("# no team has had a job yet\n")).isZero();
        assertThat(rule.desired("stagefarm_jobs_queued{team=\"a\"} 3.0\nstagefarm_jobs_queued{team=\"b\"} 1.0\n"))
                .as("queued only: sum(running) is empty, `or vector(0)` makes it 0")
                .isEqualTo(2);
        assertThat(rule.desired("stagefarm_jobs_queued{team=\"a\"} 3.0\nstagefarm_jobs_running{team=\"a\"} 2.0\n"
                        + "stagefarm_jobs_running_other 9.0\n"))
                .isEqualTo(3);
    }

    @Test
    void aKindWithoutASchemaIsRefusedNotPassed() throws Exception {
        JsonNode unknown = Kustomize.parse("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
                .getFirst();
        assertThat(ApiSchema.knows(unknown)).isFalse();
        CrdSchema crds = CrdSchema.load("/crds/keda.sh_scaledobjects.yaml");
        assertThat(crds.problems(unknown))
                .singleElement()
                .asString()
                .contains("no CRD schema for example.com/v1/Widget");
    }

    @Test
    void aScaledObjectWithAnHpaFieldNameOrAWrongTypeIsRefused() throws Exception {
        CrdSchema crds = CrdSchema.load("/crds/keda.sh_scaledobjects.yaml");
        ObjectNode scaled =
                ManifestsTest.find(prod, "ScaledObject", "stagefarm-worker").deepCopy();
        assertThat(crds.problems(scaled)).isEmpty();
        ObjectNode spec = (ObjectNode) scaled.path("spec");
        spec.put("minReplicas", 0);
        spec.put("maxReplicaCount", "16");
        spec.remove("scaleTargetRef");

        List<String> problems = new ArrayList<>(crds.problems(scaled));
        assertThat(problems)
                .anySatisfy(p -> assertThat(p).contains("unknown field spec.minReplicas"))
                .anySatisfy(p -> assertThat(p).contains("spec.maxReplicaCount must be an integer"))
                .anySatisfy(p -> assertThat(p).contains("lacks required field scaleTargetRef"));
    }

    @Test
    void aServiceMonitorEndpointWithAMisspeltFieldIsRefused() throws Exception {
        CrdSchema crds = CrdSchema.load("/crds/monitoring.coreos.com_servicemonitors.yaml");
        ObjectNode monitor =
                ManifestsTest.find(prod, "ServiceMonitor", "stagefarm").deepCopy();
        assertThat(crds.problems(monitor)).isEmpty();
        ((ObjectNode) monitor.path("spec").path("endpoints").get(0)).put("intervall", "15s");

        assertThat(crds.problems(monitor))
                .singleElement()
                .asString()
                .contains("unknown field spec.endpoints[0].intervall");
    }

    @Test
    void aRenamedFlagOrABadValueFailsToParse() {
        List<String> worker = new ArrayList<>(
                ManifestsTest.container(dev, "Deployment", "stagefarm-worker").args());
        CliParser.parse(worker);
        worker.set(worker.indexOf("--slots"), "--slot");
        assertThatThrownBy(() -> CliParser.parse(worker))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--slot");

        List<String> cache = new ArrayList<>(
                ManifestsTest.container(dev, "StatefulSet", "stagefarm-cache").args());
        cache.set(cache.indexOf("--max-size") + 1, "85 gigs");
        assertThatThrownBy(() -> CliParser.parse(cache))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("85 gigs");
    }

    @Test
    void anArgumentNamingAnUndefinedVariableFails() {
        assertThatThrownBy(() -> Workloads.expand("$(STAGEFARM_SLOTZ)", Map.of("STAGEFARM_SLOTS", "2"), "w"))
                .hasMessageContaining("$(STAGEFARM_SLOTZ), which the container's env does not define");
        assertThat(Workloads.expand("--name=$(POD_NAME)", Map.of("POD_NAME", "w-1"), "w"))
                .isEqualTo("--name=w-1");
    }
}
