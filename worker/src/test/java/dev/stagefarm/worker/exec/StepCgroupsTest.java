package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The runtime spec's cgroup part for both layouts; cgroup v2 (Kubernetes nodes) is only checked here. */
class StepCgroupsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final StepLimits LIMITS =
            StepLimits.DEFAULTS.withMemory(512 * StepLimits.MIB).withPids(256);

    @Test
    void cgroupV2NamesAnAbsolutePathBesideTheWorkerAndSaysTheCpuWeightDirectly() throws Exception {
        StepCgroups v2 = new StepCgroups(
                StepCgroups.Version.V2,
                "/kubepods.slice/pod42/cri-abc",
                Map.of("", Path.of("/sys/fs/cgroup/kubepods.slice/pod42/cri-abc")));

        assertThat(v2.cgroupsPath("sf-1")).isEqualTo("/kubepods.slice/pod42/cri-abc/stagefarm/sf-1/step");
        assertThat(JSON.writeValueAsString(v2.resources(LIMITS.withCpuWeight(250))))
                .isEqualTo("{\"memory\":{\"limit\":536870912},\"pids\":{\"limit\":256},"
                        + "\"unified\":{\"cpu.weight\":\"250\"}}");
    }

    @Test
    void cgroupV2InANamespaceAtTheRoot() {
        StepCgroups v2 = new StepCgroups(StepCgroups.Version.V2, "/", Map.of("", Path.of("/sys/fs/cgroup")));

        assertThat(v2.cgroupsPath("sf-1")).isEqualTo("/stagefarm/sf-1/step");
    }

    @Test
    void cgroupV1NamesARelativePathThatRuncJoinsToTheWorkersOwnInEachHierarchy() throws Exception {
        StepCgroups v1 = new StepCgroups(StepCgroups.Version.V1, "", Map.of());

        assertThat(v1.cgroupsPath("sf-1")).isEqualTo("stagefarm/sf-1/step");
        assertThat(JSON.writeValueAsString(v1.resources(LIMITS)))
                .isEqualTo("{\"memory\":{\"limit\":536870912},\"pids\":{\"limit\":256},\"cpu\":{\"shares\":1024}}");
    }

    @Test
    void zeroTurnsALimitOff() throws Exception {
        StepCgroups v1 = new StepCgroups(StepCgroups.Version.V1, "", Map.of());

        assertThat(JSON.writeValueAsString(v1.resources(LIMITS.withMemory(0).withPids(0))))
                .isEqualTo("{\"cpu\":{\"shares\":1024}}");
    }

    @Test
    void sizesParseAsDockerAndKubernetesWriteThem() {
        assertThat(StepLimits.parseBytes("4g")).isEqualTo(4096 * StepLimits.MIB);
        assertThat(StepLimits.parseBytes("512Mi")).isEqualTo(512 * StepLimits.MIB);
        assertThat(StepLimits.parseBytes("64MiB")).isEqualTo(64 * StepLimits.MIB);
        assertThat(StepLimits.parseBytes("1048576")).isEqualTo(StepLimits.MIB);
        assertThat(StepLimits.parseBytes("0")).isZero();
    }
}
