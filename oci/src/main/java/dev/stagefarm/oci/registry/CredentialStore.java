package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Credentials per registry host, read from Docker's {@code config.json} ({@code auths.<host>.auth} =
 * base64 of {@code user:password}). Credential helpers ({@code credsStore}) are not consulted.
 */
public final class CredentialStore {

    private static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";
    private final Map<String, Credential> byHost;

    private CredentialStore(Map<String, Credential> byHost) {
        this.byHost = Map.copyOf(byHost);
    }

    public static CredentialStore none() {
        return new CredentialStore(Map.of());
    }

    public static CredentialStore of(Map<String, Credential> byHost) {
        return new CredentialStore(byHost);
    }

    /** {@code ~/.docker/config.json}, or none when the file does not exist. */
    public static CredentialStore fromDockerConfig() throws IOException {
        return fromDockerConfig(Path.of(System.getProperty("user.home"), ".docker", "config.json"));
    }

    public static CredentialStore fromDockerConfig(Path file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return none();
        } catch (JsonProcessingException e) {
            throw new IOException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        Map<String, Credential> out = new HashMap<>();
        JsonNode auths = root == null ? null : root.get("auths");
        if (auths != null) {
            for (var it = auths.properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                String auth = e.getValue().path("auth").asText("");
                if (auth.isEmpty()) {
                    continue;
                }
                String decoded = new String(Base64.getDecoder().decode(auth.strip()), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                if (colon < 0) {
                    throw new IOException(file + ": auths." + e.getKey() + ".auth is not base64 of user:password");
                }
                out.put(hostOf(e.getKey()), new Credential(decoded.substring(0, colon), decoded.substring(colon + 1)));
            }
        }
        return new CredentialStore(out);
    }

    /** These credentials, then {@code fallback}'s for the hosts these do not name. */
    public CredentialStore withFallback(CredentialStore fallback) {
        Map<String, Credential> merged = new HashMap<>(fallback.byHost);
        merged.putAll(byHost);
        return new CredentialStore(merged);
    }

    /** Credentials for a registry or mirror host ({@code host[:port]}); docker.io's API host maps to docker.io. */
    public Optional<Credential> forHost(String host) {
        Credential c = byHost.get(host);
        if (c == null && (host.equals(RegistryConfig.DOCKER_HUB_API_HOST) || host.equals("index.docker.io"))) {
            c = byHost.get("docker.io");
        }
        return Optional.ofNullable(c);
    }

    private static String hostOf(String key) {
        if (key.equals(DOCKER_HUB_KEY)) {
            return "docker.io";
        }
        if (key.contains("://")) {
            URI u = URI.create(key);
            return u.getPort() < 0 ? u.getHost() : u.getHost() + ":" + u.getPort();
        }
        return key.replaceFirst("/.*$", "");
    }
}
