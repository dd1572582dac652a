package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answers a registry's {@code WWW-Authenticate} challenge: Basic with stored credentials, or Bearer by
 * asking the token service named in the challenge (realm, service, scope), with credentials when we have
 * them and anonymously otherwise.
 */
final class Authenticator {

    private static final Pattern PARAM = Pattern.compile("(\\w+)=(?:\"([^\"]*)\"|([^,\\s]*))");
    private final HttpClient http;
    private final CredentialStore credentials;
    private final ObjectMapper mapper = new ObjectMapper();

    Authenticator(HttpClient http, CredentialStore credentials) {
        this.http = http;
        this.credentials = credentials;
    }

    /** The Authorization header value to retry with. */
    String authorize(URI base, String challenge, String scope) throws RegistryException {
        String host = hostPort(base);
        Optional<Credential> credential = credentials.forHost(host);
        String scheme = challenge.strip().split("\\s+", 2)[0];
        if (scheme.equalsIgnoreCase("Basic")) {
            return credential
                    .map(Credential::basicHeader)
                    .orElseThrow(() -> new RegistryException(
                            "registry " + base + " wants a user name and password: add them for " + host
                                    + " to ~/.docker/config.json (docker login " + host + ")",
                            401,
                            "UNAUTHORIZED",
                            null));
        }
        if (!scheme.equalsIgnoreCase("Bearer")) {
            throw new RegistryException("registry " + base + " asks for authentication scheme '" + scheme
                    + "', which stagefarm does not support (only Basic and Bearer)");
        }
        Map<String, String> params = params(challenge);
        String realm = params.get("realm");
        if (realm == null) {
            throw new RegistryException("registry " + base + " sent a Bearer challenge without a realm: " + challenge);
        }
        StringBuilder q = new StringBuilder(realm).append(realm.contains("?") ? '&' : '?');
        if (params.containsKey("service")) {
            q.append("service=").append(enc(params.get("service"))).append('&');
        }
        q.append("scope=").append(enc(scope));
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(q.toString()))
                .timeout(Duration.ofSeconds(60))
                .GET();
        credential.ifPresent(c -> req.header("Authorization", c.basicHeader()));
        try {
            HttpResponse<byte[]> r = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                throw new RegistryException(
                        "the token service " + realm + " refused "
                                + (credential.isPresent()
                                        ? "the credentials stored for " + host + ": check them in ~/.docker/config.json"
                                        : "anonymous access to " + scope + ": add credentials for " + host
                                                + " to ~/.docker/config.json"),
                        r.statusCode(),
                        "UNAUTHORIZED",
                        null);
            }
            if (r.statusCode() != 200) {
                throw new RegistryException("the token service " + realm + " answered " + r.statusCode() + " for "
                        + scope + ": retry later or check the registry's auth setup");
            }
            JsonNode body = mapper.readTree(r.body());
            String token = body.path("token").asText(body.path("access_token").asText(""));
            if (token.isEmpty()) {
                throw new RegistryException("the token service " + realm + " answered without a token");
            }
            return "Bearer " + token;
        } catch (IOException e) {
            throw new RegistryException("could not reach the token service " + realm + " (" + e + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while asking " + realm + " for a token", e);
        }
    }

    static Map<String, String> params(String challenge) {
        Map<String, String> out = new HashMap<>();
        Matcher m = PARAM.matcher(challenge);
        while (m.find()) {
            out.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2) != null ? m.group(2) : m.group(3));
        }
        return out;
    }

    static String hostPort(URI u) {
        return u.getPort() < 0 ? u.getHost() : u.getHost() + ":" + u.getPort();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
