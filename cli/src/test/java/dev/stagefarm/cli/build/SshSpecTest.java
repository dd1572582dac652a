package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SshSpecTest {

    private static final Map<String, String> AGENT = Map.of("SSH_AUTH_SOCK", "/tmp/agent.sock");

    @Test
    void defaultAndBareIdsUseTheAgentOfSshAuthSock() {
        assertThat(SshSpec.parseAll(List.of("default", "github"), AGENT))
                .containsExactly(
                        new SshSpec("default", List.of(Path.of("/tmp/agent.sock"))),
                        new SshSpec("github", List.of(Path.of("/tmp/agent.sock"))));
    }

    @Test
    void anIdMayNameASocketOrSeveralKeys() {
        assertThat(SshSpec.parseAll(List.of("deploy=/keys/a,/keys/b"), Map.of()))
                .containsExactly(new SshSpec("deploy", List.of(Path.of("/keys/a"), Path.of("/keys/b"))));
    }

    @Test
    void withoutAnAgentOrAPathTheErrorSaysWhatToDo() {
        assertThatThrownBy(() -> SshSpec.parseAll(List.of("default"), Map.of()))
                .hasMessageContaining("SSH_AUTH_SOCK is not set")
                .hasMessageContaining("--ssh default=PATH");
    }

    @Test
    void anIdGivenTwiceOrMalformedIsRefused() {
        assertThatThrownBy(() -> SshSpec.parseAll(List.of("default", "default=/x"), AGENT))
                .hasMessageContaining("given twice");
        assertThatThrownBy(() -> SshSpec.parseAll(List.of("=/x"), AGENT))
                .hasMessageContaining("expected default or ID");
    }
}
