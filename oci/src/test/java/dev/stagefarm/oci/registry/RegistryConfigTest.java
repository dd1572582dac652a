package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryConfigTest {

    @Test
    void mirrorsComeFirstInOrderThenTheRegistry() {
        RegistryConfig c = RegistryConfig.fromFlags(
                List.of(
                        "docker.io=http://127.0.0.1:5000",
                        "docker.io=https://mirror.example:443/",
                        "http://127.0.0.1:6000"),
                List.of("127.0.0.1:5000"));

        assertThat(c.pullEndpoints("docker.io"))
                .containsExactly(
                        URI.create("http://127.0.0.1:5000"),
                        URI.create("https://mirror.example:443"),
                        URI.create("http://127.0.0.1:6000"),
                        URI.create("https://registry-1.docker.io"));
        assertThat(c.pullEndpoints("127.0.0.1:5000")).containsExactly(URI.create("http://127.0.0.1:5000"));
        assertThat(c.registryEndpoint("ghcr.io")).isEqualTo(URI.create("https://ghcr.io"));
    }

    @Test
    void badFlagsNameTheFlag() {
        assertThatThrownBy(() -> RegistryConfig.fromFlags(List.of("docker.io=ftp://x"), List.of()))
                .hasMessageContaining("--registry-mirror docker.io=ftp://x");
        assertThatThrownBy(() -> RegistryConfig.fromFlags(List.of(), List.of("a/b")))
                .hasMessageContaining("--insecure-registry a/b");
    }

    @Test
    void credentialsFromDockerConfig(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("config.json");
        String hub = Base64.getEncoder().encodeToString("me:secret".getBytes());
        String local = Base64.getEncoder().encodeToString("ci:pw:with:colons".getBytes());
        Files.writeString(
                file,
                "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" + hub + "\"},\"127.0.0.1:5000\":{\"auth\":\""
                        + local + "\"},\"ghcr.io\":{}}}");

        CredentialStore store = CredentialStore.fromDockerConfig(file);

        assertThat(store.forHost("registry-1.docker.io")).contains(new Credential("me", "secret"));
        assertThat(store.forHost("127.0.0.1:5000")).contains(new Credential("ci", "pw:with:colons"));
        assertThat(store.forHost("ghcr.io")).isEmpty();
        assertThat(CredentialStore.fromDockerConfig(dir.resolve("missing.json")).forHost("x"))
                .isEmpty();
    }
}
