package dev.stagefarm.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.client.ClientSecurity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where a client's token and addresses come from: flag, then STAGEFARM_TOKEN, then the config file. */
class ConfigDefaultsTest {

    @TempDir
    Path dir;

    @Command(name = "client")
    static final class Client {
        @Option(names = "--cache", required = true)
        String cache;

        @Mixin
        ClientAuthOptions auth;
    }

    private Client parse(Map<String, String> env, String... args) throws Exception {
        Path config = dir.resolve("config.properties");
        Files.writeString(config, "token=from-file\ncache=cache.example:7070\ntls-ca=" + dir.resolve("ca.pem") + "\n");
        Client client = new Client();
        Map<String, String> withConfig = new HashMap<>(env);
        withConfig.put("STAGEFARM_CONFIG", config.toString());
        new CommandLine(client)
                .setDefaultValueProvider(ConfigDefaults.load(withConfig))
                .parseArgs(args);
        return client;
    }

    @Test
    void aFlagBeatsTheEnvironmentWhichBeatsTheConfigFile() throws Exception {
        Files.writeString(dir.resolve("ca.pem"), "not used by these tests");
        assertThat(parse(Map.of()).auth.security().token()).isEqualTo("from-file");
        assertThat(parse(Map.of("STAGEFARM_TOKEN", "from-env")).auth.security().token())
                .isEqualTo("from-env");
        assertThat(parse(Map.of("STAGEFARM_TOKEN", "from-env"), "--token", "from-flag")
                        .auth
                        .security()
                        .token())
                .isEqualTo("from-flag");

        Client fromFile = parse(Map.of());
        assertThat(fromFile.cache)
                .as("a required address may come from the file")
                .isEqualTo("cache.example:7070");
        ClientSecurity security = fromFile.auth.security();
        assertThat(security.tls()).as("tls-ca= turns TLS on").isTrue();
        assertThat(security.ca()).isEqualTo(dir.resolve("ca.pem"));
    }

    @Test
    void aTokenFileIsReadWhenNoTokenIsGiven() throws Exception {
        Path secret = Files.writeString(dir.resolve("token"), "from-secret-mount\n");
        Client client = new Client();
        new CommandLine(client)
                .setDefaultValueProvider(new ConfigDefaults(new Properties(), Map.of()))
                .parseArgs("--cache", "c:1", "--token-file", secret.toString());
        assertThat(client.auth.security().token()).isEqualTo("from-secret-mount");

        Client missing = new Client();
        new CommandLine(missing)
                .parseArgs("--cache", "c:1", "--token-file", dir.resolve("nope").toString());
        assertThatThrownBy(() -> missing.auth.security())
                .hasMessageContaining("--token-file " + dir.resolve("nope") + " does not exist");
    }

    @Test
    void anUnknownKeyInTheConfigFileIsNamed() throws Exception {
        Path config = Files.writeString(dir.resolve("bad.properties"), "tokne=x\n");
        assertThatThrownBy(() -> ConfigDefaults.load(Map.of("STAGEFARM_CONFIG", config.toString())))
                .hasMessageContaining("unknown key 'tokne'");
    }
}
