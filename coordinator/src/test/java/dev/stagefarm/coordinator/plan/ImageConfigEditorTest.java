package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ImageConfigEditorTest {

    /** A Docker-built base image: fields stagefarm does not model, at the top and inside config. */
    private static final String BASE = """
            {"architecture":"amd64","os":"linux","os.version":"6.1",
             "container":"0123abcd","docker_version":"20.10.23",
             "container_config":{"Hostname":"0123abcd","Cmd":["/bin/sh","-c","#(nop) CMD [\\"sh\\"]"]},
             "config":{"Hostname":"","AttachStdout":false,"Image":"sha256:aa",
                       "Env":["PATH=/bin"],"Cmd":["sh"],"OnBuild":["RUN echo hi"]},
             "rootfs":{"type":"layers","diff_ids":[
               "sha256:1111111111111111111111111111111111111111111111111111111111111111"]},
             "history":[{"created":"2024-01-02T03:04:05.5+01:00","created_by":"ADD rootfs.tar /"}]}
            """;

    @Test
    void unknownFieldsOfTheBaseImageSurviveEveryEdit() throws Exception {
        ImageConfigEditor editor = ImageConfigEditor.parse(BASE.getBytes(StandardCharsets.UTF_8));
        editor.takeOnBuild();
        editor.setEnv(Map.of("PATH", "/usr/bin"));
        editor.setEntrypoint(List.of("/app"));
        editor.clearCmd();
        editor.putLabel("org.example", "yes");
        editor.setArgsEscaped();

        JsonNode json = read(editor.toJsonWithoutLayers());
        assertThat(json.path("os.version").asText()).isEqualTo("6.1");
        assertThat(json.path("docker_version").asText()).isEqualTo("20.10.23");
        assertThat(json.path("container_config").path("Cmd").get(2).asText()).isEqualTo("#(nop) CMD [\"sh\"]");
        JsonNode config = json.path("config");
        assertThat(config.path("Image").asText()).isEqualTo("sha256:aa");
        assertThat(config.has("AttachStdout")).isTrue();
        assertThat(config.path("ArgsEscaped").asBoolean()).isTrue();
        assertThat(config.path("Entrypoint").get(0).asText()).isEqualTo("/app");
        assertThat(config.has("Cmd")).as("ENTRYPOINT clears the inherited CMD").isFalse();
        assertThat(config.has("OnBuild")).as("triggers fire once").isFalse();
        assertThat(config.path("Labels").path("org.example").asText()).isEqualTo("yes");
    }

    @Test
    void theWorkerGetsNoLayersHistoryOrCreationTimeButTheBaseHistoryTravelsApart() throws Exception {
        ImageConfigEditor editor = ImageConfigEditor.parse(BASE.getBytes(StandardCharsets.UTF_8));

        JsonNode json = read(editor.toJsonWithoutLayers());
        assertThat(json.path("rootfs").path("diff_ids")).isEmpty();
        assertThat(json.has("history")).isFalse();
        assertThat(json.has("created")).isFalse();
        assertThat(editor.history()).singleElement().satisfies(h -> {
            assertThat(h.getCreatedBy()).isEqualTo("ADD rootfs.tar /");
            assertThat(h.getCreated()).isEqualTo("2024-01-02T02:04:05.500Z");
            assertThat(h.getStepIndex()).isEqualTo(-1);
        });
    }

    @Test
    void aCopyIsIndependentOfItsOriginal() {
        ImageConfigEditor original = ImageConfigEditor.scratch();
        ImageConfigEditor copy = original.copy();
        copy.putLabel("a", "b");
        copy.setWorkdir("/srv");

        assertThat(original.config().labels()).isEmpty();
        assertThat(original.workdir()).isEqualTo("/");
        assertThat(copy.workdir()).isEqualTo("/srv");
    }

    @Test
    void healthcheckDurationsAreNanosecondsAndUnsetOnesStayOut() throws Exception {
        ImageConfigEditor editor = ImageConfigEditor.scratch();
        editor.setHealthcheck(
                List.of("CMD", "true"),
                Optional.of(Duration.ofSeconds(30)),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.of(3));

        JsonNode hc = read(editor.toJsonWithoutLayers()).path("config").path("Healthcheck");
        assertThat(hc.path("Interval").asLong()).isEqualTo(30_000_000_000L);
        assertThat(hc.path("Retries").asInt()).isEqualTo(3);
        assertThat(hc.has("Timeout")).isFalse();
    }

    @Test
    void aBaseConfigThatIsNotAnObjectIsRefusedWithItsReason() {
        assertThatThrownBy(() -> ImageConfigEditor.parse("[1]".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("image config");
    }

    private static JsonNode read(byte[] json) throws Exception {
        return new ObjectMapper().readTree(json);
    }
}
