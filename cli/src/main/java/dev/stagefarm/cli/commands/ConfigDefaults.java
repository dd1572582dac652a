package dev.stagefarm.cli.commands;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Defaults of the client options from the environment and the stagefarm config file
 * ({@code $STAGEFARM_CONFIG}, else {@code ~/.config/stagefarm/config.properties}), a properties
 * file with keys named as the options: {@code token=}, {@code token-file=}, {@code tls-ca=},
 * {@code tls-client-cert=}, {@code tls-client-key=}, {@code cache=}, {@code coordinator=}.
 * A flag beats {@code STAGEFARM_TOKEN}, which beats the file. Server options are never read from
 * it: it describes how this user reaches a farm, not how a server runs.
 */
public final class ConfigDefaults implements IDefaultValueProvider {

    public static final String TOKEN_ENV = "STAGEFARM_TOKEN";
    private static final Set<String> KEYS =
            Set.of("token", "token-file", "tls-ca", "tls-client-cert", "tls-client-key", "cache", "coordinator");

    private final Properties file;
    private final Map<String, String> env;
    private final Path path;

    ConfigDefaults(Properties file, Map<String, String> env) {
        this(file, env, null);
    }

    ConfigDefaults(Properties file, Map<String, String> env, Path path) {
        this.file = file;
        this.env = env;
        this.path = path;
    }

    /** The config file this process reads (it may not exist). */
    public Path path() {
        return path;
    }

    /** Whether the config file exists (an absent one is no error: every value has another source). */
    public boolean fileExists() {
        return path != null && Files.exists(path);
    }

    /**
     * Where the default of option {@code key} (named as in the file) comes from: {@code STAGEFARM_TOKEN}
     * for the token, else the file; empty when neither gives one. The same order as {@link #defaultValue}.
     */
    public Optional<String> sourceOf(String key) {
        if (key.equals("token")
                && env.get(TOKEN_ENV) != null
                && !env.get(TOKEN_ENV).isBlank()) {
            return Optional.of("environment variable " + TOKEN_ENV);
        }
        String value = file.getProperty(key);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of("config file " + path);
    }

    /** Reads the config file if there is one; a file that exists but cannot be read is an error. */
    public static ConfigDefaults load(Map<String, String> env) throws IOException {
        Path path = env.containsKey("STAGEFARM_CONFIG")
                ? Path.of(env.get("STAGEFARM_CONFIG"))
                : Path.of(System.getProperty("user.home"), ".config", "stagefarm", "config.properties");
        Properties properties = new Properties();
        if (Files.exists(path)) {
            try (Reader in = Files.newBufferedReader(path)) {
                properties.load(in);
            } catch (IOException | IllegalArgumentException e) {
                throw new IOException(
                        "stagefarm config file " + path + " cannot be read (" + e.getMessage()
                                + "); fix it, or point STAGEFARM_CONFIG elsewhere",
                        e);
            }
            for (String key : properties.stringPropertyNames()) {
                if (!KEYS.contains(key)) {
                    throw new IOException(
                            "stagefarm config file " + path + ": unknown key '" + key + "'; known keys are "
                                    + String.join(", ", KEYS.stream().sorted().toList()));
                }
            }
        }
        return new ConfigDefaults(properties, env, path);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        String key = option.longestName().replaceFirst("^--", "");
        if (!KEYS.contains(key)) {
            return null;
        }
        if (key.equals("token")
                && env.get(TOKEN_ENV) != null
                && !env.get(TOKEN_ENV).isBlank()) {
            return env.get(TOKEN_ENV);
        }
        String value = file.getProperty(key);
        return value == null || value.isBlank() ? null : value.strip();
    }
}
