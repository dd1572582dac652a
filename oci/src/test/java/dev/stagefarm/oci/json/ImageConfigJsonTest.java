package dev.stagefarm.oci.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Healthcheck;
import dev.stagefarm.oci.HistoryEntry;
import dev.stagefarm.oci.ImageConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageConfigJsonTest {

    private static final String DOCKER_CONFIG = """
            {"architecture":"amd64","os":"linux","created":"2024-05-01T12:00:00.123456789Z",
             "docker_version":"24.0.7","container":"abc",
             "container_config":{"Hostname":"x","Cmd":["/bin/sh"]},
             "config":{"Hostname":"","User":"app","AttachStdin":false,"Tty":false,
               "Env":["PATH=/usr/bin","GOLANG_VERSION=1.22"],"Entrypoint":["/entry"],"Cmd":["serve","--port","80"],
               "WorkingDir":"/app","ExposedPorts":{"80/tcp":{},"53/udp":{}},"Volumes":{"/data":{}},
               "Labels":{"b":"2","a":"1"},"StopSignal":"SIGTERM",
               "Healthcheck":{"Test":["CMD-SHELL","curl -f localhost"],"Interval":30000000000,"Retries":3},
               "OnBuild":["RUN echo hi"],"Shell":["/bin/bash","-c"],"ArgsEscaped":true},
             "rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]},
             "history":[{"created":"2024-05-01T12:00:00Z","created_by":"ADD rootfs.tar /"},
                        {"created":"2024-05-01T12:00:01Z","created_by":"ENV A=1","empty_layer":true},
                        {"created":"2024-05-01T12:00:02Z","created_by":"RUN make","comment":"buildkit.dockerfile.v0"}],
             "moby.buildkit.buildinfo.v1":"e30="}
            """.formatted("1".repeat(64), "2".repeat(64));

    @Test
    void readsEveryFieldWeModel() throws Exception {
        ImageConfig c = ImageConfigJson.parse(DOCKER_CONFIG.getBytes(StandardCharsets.UTF_8));

        assertThat(c.platform()).hasToString("linux/amd64");
        assertThat(c.created()).isEqualTo(Instant.parse("2024-05-01T12:00:00.123456789Z"));
        assertThat(c.user()).isEqualTo("app");
        assertThat(c.env()).containsExactly("PATH=/usr/bin", "GOLANG_VERSION=1.22");
        assertThat(c.entrypoint()).containsExactly("/entry");
        assertThat(c.cmd()).containsExactly("serve", "--port", "80");
        assertThat(c.workingDir()).isEqualTo("/app");
        assertThat(c.exposedPorts()).containsExactly("53/udp", "80/tcp");
        assertThat(c.volumes()).containsExactly("/data");
        assertThat(c.labels()).containsEntry("a", "1").containsEntry("b", "2");
        assertThat(c.stopSignal()).isEqualTo("SIGTERM");
        assertThat(c.healthcheck())
                .isEqualTo(new Healthcheck(
                        List.of("CMD-SHELL", "curl -f localhost"), Duration.ofSeconds(30), null, null, null, 3));
        assertThat(c.onBuild()).containsExactly("RUN echo hi");
        assertThat(c.shell()).containsExactly("/bin/bash", "-c");
        assertThat(c.diffIds()).hasSize(2);
        assertThat(c.history()).extracting(HistoryEntry::emptyLayer).containsExactly(false, true, false);
        assertThat(c.history().get(2).comment()).isEqualTo("buildkit.dockerfile.v0");
        assertThat(c.extraFields())
                .containsKeys("docker_version", "container", "container_config", "moby.buildkit.buildinfo.v1");
        assertThat(c.extraRunFields()).containsKeys("Hostname", "AttachStdin", "Tty", "ArgsEscaped");
    }

    @Test
    void roundTripKeepsUnknownFieldsAndValues() throws Exception {
        byte[] written = ImageConfigJson.toJson(ImageConfigJson.parse(DOCKER_CONFIG.getBytes(StandardCharsets.UTF_8)));

        ObjectMapper m = new ObjectMapper();
        JsonNode original = m.readTree(DOCKER_CONFIG);
        JsonNode back = m.readTree(written);
        assertThat(back).isEqualTo(original); // JsonNode equality ignores key order
        assertThat(ImageConfigJson.toJson(ImageConfigJson.parse(written))).isEqualTo(written);
    }

    @Test
    void serializationIsDeterministicAndWithersAreImmutable() throws Exception {
        Digest layer = Digest.of(new byte[] {1});
        ImageConfig base = ImageConfig.builder()
                .env(List.of("PATH=/bin"))
                .labels(Map.of("z", "1", "a", "2"))
                .created(Instant.EPOCH)
                .build();
        ImageConfig next = base.withLayer(layer, HistoryEntry.of(Instant.EPOCH, "RUN x", false))
                .withCmd(List.of("sh"));

        assertThat(base.diffIds()).isEmpty();
        assertThat(next.diffIds()).containsExactly(layer);
        assertThat(new String(ImageConfigJson.toJson(next), StandardCharsets.UTF_8))
                .isEqualTo("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\","
                        + "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"Labels\":{\"a\":\"2\",\"z\":\"1\"}},"
                        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer + "\"]},"
                        + "\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"RUN x\"}]}");
        assertThat(ImageConfigJson.toJson(next.toBuilder().build())).isEqualTo(ImageConfigJson.toJson(next));
        assertThat(ImageConfigJson.parse(ImageConfigJson.toJson(next))).isEqualTo(next);
    }
}
