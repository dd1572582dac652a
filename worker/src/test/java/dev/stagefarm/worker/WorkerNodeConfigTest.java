package dev.stagefarm.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.worker.baseimage.LayerLimits;
import dev.stagefarm.worker.exec.StepLimits;
import dev.stagefarm.worker.net.NetworkOptions;
import dev.stagefarm.worker.ops.InputLimits;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A worker started without a flag gets that flag's default; a config copied and changed keeps the rest. */
class WorkerNodeConfigTest {

    private static final Path ROOT = Path.of("/var/lib/stagefarm");

    private static WorkerNode.Config.Builder w1() {
        return WorkerNode.Config.builder("w1", "coordinator:7000", "cache:7001", ROOT, RegistryConfig.defaults(), 2);
    }

    @Test
    void fieldsNotSetTakeTheirDefaults() {
        assertThat(w1().build())
                .isEqualTo(new WorkerNode.Config(
                        "w1",
                        "coordinator:7000",
                        "cache:7001",
                        ROOT,
                        RegistryConfig.defaults(),
                        2,
                        ClientSecurity.NONE,
                        NetworkOptions.defaults(),
                        null,
                        StepLimits.DEFAULTS,
                        0,
                        InputLimits.DEFAULTS,
                        null,
                        LayerLimits.DEFAULTS));
    }

    @Test
    void aCopyChangedInOneFieldKeepsEveryOther() {
        LayerLimits small = new LayerLimits(1 << 20, 1 << 20, 4 << 20, 10, 100);
        WorkerNode.Config config = w1().security(new ClientSecurity("token", null, null, null, false))
                .sandbox(Path.of("/usr/local/bin/runc"), StepLimits.DEFAULTS)
                .maxLocalSize(10L << 30)
                .inputs(InputLimits.DEFAULTS.withFetchSize(1 << 20))
                .teamRegistryAuth(Path.of("/etc/stagefarm/teams"))
                .build();

        assertThat(config.toBuilder().build()).isEqualTo(config);
        WorkerNode.Config changed = config.toBuilder().baseImageLimits(small).build();
        assertThat(changed.baseImages()).isEqualTo(small);
        assertThat(changed)
                .usingRecursiveComparison()
                .ignoringFields("baseImages")
                .isEqualTo(config);
    }
}
