package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.worker.net.StepNetwork;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RuntimeSpecFactoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void dockerDefaults() {
        JsonNode spec = spec(ProcessSpec.of("sh", "-c", "true"));

        assertThat(texts(spec.at("/linux/namespaces"), "type"))
                .containsExactly("mount", "pid", "ipc", "uts", "network");
        assertThat(spec.at("/linux").has("cgroupsPath")).isFalse();
        assertThat(spec.at("/linux").has("resources")).isFalse();
        assertThat(spec.at("/process/terminal").asBoolean()).isFalse();
        assertThat(spec.at("/process/noNewPrivileges").asBoolean()).isTrue();
        assertThat(texts(spec.at("/process/capabilities/bounding"), null))
                .hasSize(14)
                .contains("CAP_NET_RAW");
        assertThat(spec.at("/process/capabilities").has("ambient")).isFalse();
        assertThat(spec.at("/root/path").asText()).isEqualTo("/merged");
        assertThat(spec.at("/root/readonly").asBoolean()).isFalse();
        assertThat(spec.at("/hostname").asText()).isEqualTo("stagefarm");
        assertThat(texts(spec.at("/mounts"), "destination"))
                .containsExactly(
                        "/proc",
                        "/dev",
                        "/dev/pts",
                        "/dev/shm",
                        "/dev/mqueue",
                        "/sys",
                        "/etc/resolv.conf",
                        "/etc/hosts");
        assertThat(texts(spec.at("/linux/maskedPaths"), null)).contains("/proc/kcore", "/sys/firmware");
        assertThat(texts(spec.at("/linux/readonlyPaths"), null)).contains("/proc/sys", "/proc/sysrq-trigger");
    }

    @Test
    void networkNoneAddsANewNetworkNamespace() {
        JsonNode spec = spec(ProcessSpec.of("true").withNetwork("none"));

        assertThat(texts(spec.at("/linux/namespaces"), "type")).contains("network");
        assertThat(spec.at("/linux/namespaces").toString()).doesNotContain("path");
    }

    @Test
    void aPreparedNamespaceIsJoinedByPath() {
        StepNetwork net =
                new StepNetwork(false, Optional.of(Path.of("/var/run/netns/sfn-x-1")), Optional.empty(), () -> {});
        JsonNode spec = JSON.valueToTree(create(ProcessSpec.of("true"), net));

        JsonNode network = null;
        for (JsonNode ns : spec.at("/linux/namespaces")) {
            if (ns.path("type").asText().equals("network")) {
                network = ns;
            }
        }
        assertThat(network).isNotNull();
        assertThat(network.path("path").asText()).isEqualTo("/var/run/netns/sfn-x-1");
    }

    @Test
    void hostNetworkHasNoNetworkNamespace() {
        StepNetwork host = new StepNetwork(true, Optional.empty(), Optional.empty(), () -> {});
        JsonNode spec = JSON.valueToTree(create(ProcessSpec.of("true").withNetwork("host"), host));

        assertThat(texts(spec.at("/linux/namespaces"), "type")).doesNotContain("network");
    }

    @Test
    void pathAndHomeDefaultsOnlyWhenAbsent() {
        assertThat(RuntimeSpecFactory.environment(List.of("A=1"), "/home/app"))
                .containsExactly("A=1", "PATH=" + RuntimeSpecFactory.DEFAULT_PATH, "HOME=/home/app");
        assertThat(RuntimeSpecFactory.environment(List.of("PATH=/x", "HOME=/y"), "/home/app"))
                .containsExactly("PATH=/x", "HOME=/y");
    }

    private static JsonNode spec(ProcessSpec process) {
        return JSON.valueToTree(create(process, new StepNetwork(false, Optional.empty(), Optional.empty(), () -> {})));
    }

    private static OciRuntimeSpec create(ProcessSpec process, StepNetwork network) {
        return RuntimeSpecFactory.create(
                process,
                new ContainerUser(0, 0, List.of(), "/root"),
                Path.of("/merged"),
                "stagefarm",
                Path.of("/b/resolv.conf"),
                Path.of("/b/hosts"),
                network);
    }

    private static List<String> texts(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(field == null ? n.asText() : n.path(field).asText()));
        return out;
    }
}
