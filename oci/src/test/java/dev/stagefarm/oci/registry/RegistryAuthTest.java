package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.testing.TestImages;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication flows against a small in-process registry double (Debian's docker-registry can only do
 * token auth with an external, certificate-signing token service): Bearer via a token endpoint, and Basic.
 */
class RegistryAuthTest {

    @TempDir
    Path tmp;

    private HttpServer server;
    private final List<String> tokenRequests = new CopyOnWriteArrayList<>();

    private String start(TestImages img, String scheme, String basicUser) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        String basic = basicUser == null ? null : new Credential(basicUser, "pw").basicHeader();
        server.createContext("/token", ex -> {
            tokenRequests.add(ex.getRequestURI().getQuery() + " auth="
                    + ex.getRequestHeaders().getFirst("Authorization"));
            if (basic != null && !basic.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                send(ex, 401, Map.of(), new byte[0]);
            } else {
                send(ex, 200, Map.of(), "{\"token\":\"tok-123\"}".getBytes(StandardCharsets.UTF_8));
            }
        });
        server.createContext("/v2/", ex -> {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            boolean ok = scheme.equals("Bearer") ? "Bearer tok-123".equals(auth) : basic.equals(auth);
            if (!ok) {
                String challenge = scheme.equals("Bearer")
                        ? "Bearer realm=\"" + base
                                + "/token\",service=\"fake-registry\",scope=\"repository:team/app:pull\""
                        : "Basic realm=\"fake\"";
                send(
                        ex,
                        401,
                        Map.of("WWW-Authenticate", challenge),
                        "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}"
                                .getBytes());
                return;
            }
            String path = ex.getRequestURI().getPath();
            if (path.equals("/v2/team/app/manifests/v1")) {
                send(
                        ex,
                        200,
                        Map.of("Content-Type", img.manifest().mediaType()),
                        img.manifest().bytes());
            } else if (path.equals(
                    "/v2/team/app/blobs/" + img.manifest().manifest().config().digest())) {
                send(ex, 200, Map.of(), img.config());
            } else {
                send(ex, 404, Map.of(), "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}".getBytes());
            }
        });
        server.start();
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            ex.getResponseBody().write(body);
        }
        ex.close();
    }

    private RegistryClient client(String host, CredentialStore creds) {
        return new RegistryClient(RegistryConfig.fromFlags(List.of(), List.of(host)), creds);
    }

    @Test
    void eachTeamPullsWithItsOwnCredentialsAndNeverAnothers() throws Exception {
        TestImages img = TestImages.hello(tmp, "t", "amd64", false);
        String host = start(img, "Basic", "team-a-robot");
        ImageReference ref = ImageReference.parse(host + "/team/app:v1");
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(tmp.resolve("team-auth"));
        java.nio.file.Files.writeString(dir.resolve("team-a.json"), dockerConfig(host, "team-a-robot:pw"));
        // team B holds credentials too, for another registry only
        java.nio.file.Files.writeString(dir.resolve("team-b.json"), dockerConfig("registry.example:443", "b:pw"));
        RegistryConfig config = RegistryConfig.fromFlags(List.of(), List.of(host));
        try (RegistryClient farm = new RegistryClient(config, CredentialStore.none());
                TeamRegistries teams = TeamRegistries.fromDirectory(dir, config, CredentialStore.none(), farm)) {
            assertThat(teams.teams()).containsExactly("team-a", "team-b");

            assertThat(teams.forTeam("team-a")
                            .resolve(ref, Platform.LINUX_AMD64)
                            .manifestDigest())
                    .isEqualTo(img.manifest().digest());
            for (String other : List.of("team-b", "team-c", "")) {
                assertThatThrownBy(() -> teams.forTeam(other).resolve(ref, Platform.LINUX_AMD64))
                        .as("team %s pulls team A's private image", other)
                        .isInstanceOf(RegistryException.class);
            }
            // the sentence for a refused team names who holds the credentials: the farm's operator
            assertThat(teams.credentialsHint("team-c", host))
                    .hasValue("this farm holds no registry credentials for team team-c on " + host + ": ask the farm's"
                            + " operator to add them as team-c.json in the --team-registry-auth directory of the"
                            + " coordinator and the workers");
            assertThat(teams.credentialsHint("team-a", host))
                    .hasValue(host + " does not accept the registry credentials this farm holds for team team-a"
                            + " (team-a.json in --team-registry-auth): ask the farm's operator to renew them");
            assertThat(teams.credentialsHint("", host))
                    .as("a farm without teams")
                    .isEmpty();
        }
        // the farm's own credentials still serve a team for hosts its file does not name
        try (RegistryClient farm = new RegistryClient(config, CredentialStore.none());
                TeamRegistries teams = TeamRegistries.fromDirectory(
                        dir, config, CredentialStore.of(Map.of(host, new Credential("team-a-robot", "pw"))), farm)) {
            assertThat(teams.forTeam("team-b")
                            .resolve(ref, Platform.LINUX_AMD64)
                            .manifestDigest())
                    .isEqualTo(img.manifest().digest());
        }
    }

    private static String dockerConfig(String host, String userPassword) {
        return "{\"auths\": {\"" + host + "\": {\"auth\": \""
                + java.util.Base64.getEncoder().encodeToString(userPassword.getBytes(StandardCharsets.UTF_8))
                + "\"}}}";
    }

    @Test
    void anonymousBearerTokenIsFetchedOnceAndReused() throws Exception {
        TestImages img = TestImages.hello(tmp, "t", "amd64", false);
        String host = start(img, "Bearer", null);

        ResolvedImage r = client(host, CredentialStore.none())
                .resolve(ImageReference.parse(host + "/team/app:v1"), Platform.LINUX_AMD64);

        assertThat(r.manifestDigest()).isEqualTo(img.manifest().digest());
        assertThat(tokenRequests).containsExactly("service=fake-registry&scope=repository:team/app:pull auth=null");
    }

    @Test
    void bearerTokenRequestCarriesStoredCredentials() throws Exception {
        TestImages img = TestImages.hello(tmp, "t", "amd64", false);
        String host = start(img, "Bearer", "robot");

        client(host, CredentialStore.of(Map.of(host, new Credential("robot", "pw"))))
                .resolve(ImageReference.parse(host + "/team/app:v1"), Platform.LINUX_AMD64);

        assertThat(tokenRequests)
                .singleElement()
                .asString()
                .endsWith("auth=" + new Credential("robot", "pw").basicHeader());
        assertThatThrownBy(() -> client(host, CredentialStore.of(Map.of(host, new Credential("robot", "wrong"))))
                        .resolve(ImageReference.parse(host + "/team/app:v1"), Platform.LINUX_AMD64))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("refused the credentials stored for " + host);
    }

    @Test
    void basicAuthUsesStoredCredentialsOrSaysHowToLogIn() throws Exception {
        TestImages img = TestImages.hello(tmp, "t", "amd64", false);
        String host = start(img, "Basic", "me");
        ImageReference ref = ImageReference.parse(host + "/team/app:v1");

        assertThat(client(host, CredentialStore.of(Map.of(host, new Credential("me", "pw"))))
                        .resolve(ref, Platform.LINUX_AMD64)
                        .config()
                        .cmd())
                .containsExactly("/bin/cat", "/hello.txt");
        assertThatThrownBy(() -> client(host, CredentialStore.none()).resolve(ref, Platform.LINUX_AMD64))
                .hasMessageContaining("docker login " + host);
    }
}
