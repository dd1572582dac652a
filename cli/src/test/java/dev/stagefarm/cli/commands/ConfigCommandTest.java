package dev.stagefarm.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code config show}: each setting's value and where it came from, the token masked. */
class ConfigCommandTest {

    @TempDir
    Path dir;

    private String show(Map<String, String> env, String... args) throws Exception {
        ConfigCommand.Show show = new ConfigCommand.Show();
        show.env = env;
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(show).setDefaultValueProvider(ConfigDefaults.load(env));
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute(args)).isZero();
        return out.toString();
    }

    private static String line(String output, String setting) {
        return output.lines()
                .filter(l -> l.startsWith(setting + " "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + setting + " in\n" + output));
    }

    @Test
    void eachValueSaysWhereItCameFrom() throws Exception {
        Path config = Files.writeString(
                dir.resolve("config.properties"),
                "coordinator=farm.example:7071\ntoken=sf_fromthefile_0123456789abcd\ntls-ca=/etc/ca.pem\n");
        Map<String, String> env = new HashMap<>(Map.of(
                "STAGEFARM_CONFIG", config.toString(),
                "STAGEFARM_DATA", "/srv/sf",
                "DOCKER_HOST", "unix:///run/d.sock"));
        String out = show(env, "--registry-mirror", "docker.io=http://127.0.0.1:5000");

        assertThat(line(out, "config-file")).contains(config.toString(), "environment variable STAGEFARM_CONFIG");
        assertThat(line(out, "coordinator")).contains("farm.example:7071", "config file " + config);
        assertThat(line(out, "token")).contains("sf_****abcd", "config file " + config);
        assertThat(out).doesNotContain("fromthefile");
        assertThat(line(out, "tls-ca")).contains("/etc/ca.pem", "config file");
        assertThat(line(out, "data")).contains("/srv/sf", "environment variable STAGEFARM_DATA");
        assertThat(line(out, "registry-mirror")).contains("docker.io=http://127.0.0.1:5000", "flag --registry-mirror");
        assertThat(line(out, "docker-host")).contains("unix:///run/d.sock", "environment variable DOCKER_HOST");
        assertThat(line(out, "tls-client-cert")).contains("none", "default");

        env.put("STAGEFARM_TOKEN", "sf_fromtheenvironment_99999zzzz");
        assertThat(line(show(env), "token")).contains("sf_****zzzz", "environment variable STAGEFARM_TOKEN");
        assertThat(line(show(env, "--token", "short", "--coordinator", "c:1"), "token"))
                .contains("****", "flag --token")
                .doesNotContain("short");
        assertThat(line(show(env, "--coordinator", "c:1"), "coordinator")).contains("c:1", "flag --coordinator");
    }

    @Test
    void withoutAnythingEverySettingIsADefault() throws Exception {
        String out =
                show(Map.of("STAGEFARM_CONFIG", dir.resolve("absent.properties").toString()));
        assertThat(line(out, "config-file")).contains("(no such file)");
        assertThat(line(out, "coordinator")).contains("none: the local or embedded farm", "default");
        assertThat(line(out, "data")).contains("/var/lib/stagefarm", "default");
        assertThat(line(out, "docker-host")).contains("unix:///var/run/docker.sock", "default");
    }
}
