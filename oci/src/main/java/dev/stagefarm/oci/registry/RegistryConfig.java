package dev.stagefarm.oci.registry;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where to reach registries: pull mirrors per registry (tried in order, then the registry itself) and
 * registries that speak plain HTTP. Built from the CLI flags
 * {@code --registry-mirror docker.io=http://127.0.0.1:5000} and {@code --insecure-registry 127.0.0.1:5000}.
 */
public record RegistryConfig(Map<String, List<URI>> mirrors, Set<String> insecureRegistries) {

    /** Docker Hub's name in references is docker.io, but its API answers on this host. */
    public static final String DOCKER_HUB_API_HOST = "registry-1.docker.io";

    public RegistryConfig {
        Map<String, List<URI>> copy = new LinkedHashMap<>();
        mirrors.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        mirrors = Collections.unmodifiableMap(copy);
        insecureRegistries = Collections.unmodifiableSet(new TreeSet<>(insecureRegistries));
    }

    public static RegistryConfig defaults() {
        return new RegistryConfig(Map.of(), Set.of());
    }

    /**
     * Parses flag values. A mirror is {@code registry=url}; a bare url mirrors docker.io, as Docker's own
     * flag does. An insecure registry is {@code host[:port]}.
     *
     * @throws IllegalArgumentException naming the bad flag value
     */
    public static RegistryConfig fromFlags(Collection<String> registryMirrors, Collection<String> insecureRegistries) {
        RegistryConfig c = defaults();
        for (String m : registryMirrors) {
            int eq = m.indexOf('=');
            String registry = eq < 0 ? "docker.io" : m.substring(0, eq).strip();
            c = c.withMirror(
                    registry, parseMirror(m, eq < 0 ? m : m.substring(eq + 1).strip()));
        }
        for (String h : insecureRegistries) {
            String host = h.strip().replaceFirst("^https?://", "").replaceFirst("/+$", "");
            if (host.isEmpty() || host.contains("/")) {
                throw new IllegalArgumentException(
                        "--insecure-registry " + h + ": want host[:port], e.g. 127.0.0.1:5000");
            }
            c = c.withInsecureRegistry(host);
        }
        return c;
    }

    public RegistryConfig withMirror(String registry, URI mirror) {
        Map<String, List<URI>> m = new LinkedHashMap<>(mirrors);
        List<URI> list = new ArrayList<>(m.getOrDefault(registry, List.of()));
        list.add(mirror);
        m.put(registry, list);
        return new RegistryConfig(m, insecureRegistries);
    }

    public RegistryConfig withInsecureRegistry(String host) {
        Set<String> s = new TreeSet<>(insecureRegistries);
        s.add(host);
        return new RegistryConfig(mirrors, s);
    }

    /** Base URIs to pull from for {@code registry}: its mirrors in order, then the registry itself. */
    public List<URI> pullEndpoints(String registry) {
        List<URI> out = new ArrayList<>(mirrors.getOrDefault(registry, List.of()));
        out.add(registryEndpoint(registry));
        return out;
    }

    /** The registry's own base URI (pushes always go here, never to a mirror). */
    public URI registryEndpoint(String registry) {
        String host = registry.equals("docker.io") ? DOCKER_HUB_API_HOST : registry;
        return URI.create((insecureRegistries.contains(registry) ? "http://" : "https://") + host);
    }

    private static URI parseMirror(String flag, String url) {
        try {
            URI u = new URI(url.replaceFirst("/+$", ""));
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
                    || u.getHost() == null
                    || u.getQuery() != null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return u;
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--registry-mirror " + flag
                            + ": want registry=http(s)://host[:port], e.g. docker.io=http://127.0.0.1:5000",
                    e);
        }
    }
}
