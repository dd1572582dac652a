package dev.stagefarm.cli.commands;

import dev.stagefarm.cli.build.LocalFarm;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/** {@code stagefarm config show}: what a client command would use, and where each value came from. */
@Command(
        name = "config",
        mixinStandardHelpOptions = true,
        description = "Show the client settings in effect.",
        subcommands = {ConfigCommand.Show.class})
public final class ConfigCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** The settings a client command would use, each with its value and where it came from. */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = {
                "Print each client setting in effect (coordinator, cache, token (masked), TLS, data directory,",
                "registry mirrors, Docker engine) and where it came from: flag, environment variable, config",
                "file, or default. Give the flags a command would get to see what it would use."
            })
    public static final class Show implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--coordinator", paramLabel = "HOST:PORT", description = "As build --coordinator.")
        String coordinator;

        @Option(names = "--cache", paramLabel = "HOST:PORT", description = "As cache du --cache.")
        String cache;

        @Option(names = "--data", paramLabel = "DIR", description = "As build --data.")
        Path data;

        @Mixin
        ClientAuthOptions auth;

        @Mixin
        RegistryOptions registries;

        /** The process environment; a test gives its own. */
        Map<String, String> env = System.getenv();

        record Setting(String name, String value, String source) {}

        @Override
        public Integer call() throws IOException {
            ConfigDefaults defaults = ConfigDefaults.load(env);
            ParseResult parsed = spec.commandLine().getParseResult();
            List<Setting> settings = new ArrayList<>();
            settings.add(new Setting(
                    "config-file",
                    String.valueOf(defaults.path()),
                    env.containsKey("STAGEFARM_CONFIG")
                            ? "environment variable STAGEFARM_CONFIG" + (defaults.fileExists() ? "" : " (no such file)")
                            : "default" + (defaults.fileExists() ? "" : " (no such file)")));
            settings.add(fromOption(parsed, defaults, "coordinator", coordinator, "none: the local or embedded farm"));
            settings.add(fromOption(parsed, defaults, "cache", cache, "none: the coordinator names it"));
            settings.add(fromOption(parsed, defaults, "token", mask(auth.token), "none"));
            settings.add(fromOption(parsed, defaults, "token-file", str(auth.tokenFile), "none"));
            settings.add(fromOption(parsed, defaults, "tls-ca", str(auth.tlsCa), "none: plaintext"));
            settings.add(fromOption(parsed, defaults, "tls-client-cert", str(auth.tlsClientCert), "none"));
            settings.add(fromOption(parsed, defaults, "tls-client-key", str(auth.tlsClientKey), "none"));
            settings.add(
                    data != null
                            ? new Setting("data", data.toString(), "flag --data")
                            : fromEnv("data", "STAGEFARM_DATA", "/var/lib/stagefarm"));
            settings.add(fromEnv("socket-dir", LocalFarm.SOCKET_DIR_ENV, "/run/stagefarm"));
            settings.add(new Setting(
                    "registry-mirror",
                    registries.mirrors().isEmpty() ? "none" : String.join(" ", registries.mirrors()),
                    registries.mirrors().isEmpty() ? "default" : "flag --registry-mirror"));
            settings.add(new Setting(
                    "insecure-registry",
                    registries.insecure().isEmpty() ? "none" : String.join(" ", registries.insecure()),
                    registries.insecure().isEmpty() ? "default" : "flag --insecure-registry"));
            settings.add(fromEnv("docker-host", "DOCKER_HOST", "unix:///var/run/docker.sock"));
            PrintWriter out = spec.commandLine().getOut();
            out.printf("%-18s %-44s %s%n", "SETTING", "VALUE", "FROM");
            for (Setting s : settings) {
                out.printf("%-18s %-44s %s%n", s.name(), s.value(), s.source());
            }
            out.flush();
            return 0;
        }

        private static Setting fromOption(
                ParseResult parsed, ConfigDefaults defaults, String key, String value, String none) {
            if (parsed.hasMatchedOption("--" + key)) {
                return new Setting(key, value, "flag --" + key);
            }
            Optional<String> source = defaults.sourceOf(key);
            return source.isPresent() && value != null
                    ? new Setting(key, value, source.get())
                    : new Setting(key, none, "default");
        }

        private Setting fromEnv(String name, String variable, String fallback) {
            String value = env.get(variable);
            return value != null && !value.isBlank()
                    ? new Setting(name, value, "environment variable " + variable)
                    : new Setting(name, fallback, "default");
        }

        private static String str(Path p) {
            return p == null ? null : p.toString();
        }

        /** Enough of a token to tell two apart, never enough to use one. */
        static String mask(String token) {
            if (token == null || token.isBlank()) {
                return null;
            }
            String prefix = token.startsWith("sf_") ? "sf_" : "";
            String tail = token.length() >= 16 ? token.substring(token.length() - 4) : "";
            return prefix + "****" + tail + " (" + token.length() + " characters)";
        }
    }
}
