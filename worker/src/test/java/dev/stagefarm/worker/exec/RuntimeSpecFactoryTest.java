package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuntimeSpecFactoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void dockerDefaultsWithHostNetwork() {
        JsonNode spec = spec(ProcessSpec.of("sh", "-c", "true"));

        assertThat(texts(spec.at("/linux/namespaces"), "type")).containsExactly("mount", "pid", "ipc", "uts");
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
    void networkNoneAddsANetworkNamespace() {
        JsonNode spec = spec(ProcessSpec.of("true").withNetwork("none"));

        assertThat(texts(spec.at("/linux/namespaces"), "type")).contains("network");
    }

    @Test
    void pathAndHomeDefaultsOnlyWhenAbsent() {
        assertThat(RuntimeSpecFactory.environment(List.of("A=1"), "/home/app"))
                .containsExactly("A=1", "PATH=" + RuntimeSpecFactory.DEFAULT_PATH, "HOME=/home/app");
        assertThat(RuntimeSpecFactory.environment(List.of("PATH=/x", "HOME=/y"), "/home/app"))
                .containsExactly("PATH=/x", "HOME=/y");
    }

    private static JsonNode spec(ProcessSpec process) {
        OciRuntimeSpec spec = RuntimeSpecFactory.create(
                process,
                new ContainerUser(0, 0, List.of(), "/root"),
                Path.of("/merged"),
                "stagefarm",
                Path.of("/b/resolv.conf"),
                Path.of("/b/hosts"));
        return JSON.valueToTree(spec);
    }

    private static List<String> texts(JsonNode array, String field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(field == null ? n.asText() : n.path(field).asText()));
        return out;
    }
}
