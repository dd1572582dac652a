package dev.stagefarm.oci.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * Sends one Distribution API request to one endpoint: adds the cached Authorization, answers a 401
 * challenge once, follows redirects without leaking credentials to another host, and turns network
 * failures into {@link RegistryException}s that say what to check.
 */
final class RegistryTransport {

    private static final int MAX_REDIRECTS = 5;
    private final HttpClient http;
    private final Authenticator authenticator;
    private final Map<String, String> authorizations = new ConcurrentHashMap<>();

    RegistryTransport(HttpClient http, CredentialStore credentials) {
        this.http = http;
        this.authenticator = new Authenticator(http, credentials);
    }

    /** A request against {@code base}/v2/…; {@code body} is called again on a retry, so it must re-open. */
    record Call(
            URI base,
            String repository,
            boolean push,
            String method,
            URI uri,
            Map<String, String> headers,
            Supplier<HttpRequest.BodyPublisher> body) {

        String scope() {
            return "repository:" + repository + ":" + (push ? "pull,push" : "pull");
        }
    }

    static URI v2(URI base, String path) {
        return URI.create(base.toString() + "/v2/" + path);
    }

    /** Sends {@code call}; the caller owns (and must close) the response body, whatever the status. */
    HttpResponse<InputStream> send(Call call) throws RegistryException {
        String key = call.base() + " " + call.scope();
        URI uri = call.uri();
        boolean sameHost = true;
        boolean challenged = false;
        for (int redirects = 0; ; ) {
            HttpRequest.Builder req = HttpRequest.newBuilder(uri)
                    .method(
                            call.method(),
                            call.body() == null
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : call.body().get());
            call.headers().forEach(req::header);
            String auth = authorizations.get(key);
            if (auth != null && sameHost) {
                req.header("Authorization", auth);
            }
            HttpResponse<InputStream> r = exchange(call.base(), req.build());
            int status = r.statusCode();
            if (status == 401 && sameHost && !challenged) {
                String challenge = r.headers().firstValue("WWW-Authenticate").orElse(null);
                if (challenge != null) {
                    close(r);
                    authorizations.put(key, authenticator.authorize(call.base(), challenge, call.scope()));
                    challenged = true;
                    continue;
                }
            }
            boolean redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
            if (redirect
                    && (call.method().equals("GET") || call.method().equals("HEAD"))
                    && redirects++ < MAX_REDIRECTS) {
                String location = r.headers().firstValue("Location").orElse(null);
                close(r);
                if (location == null) {
                    throw new RegistryException("registry " + call.base() + " redirected without a Location");
                }
                URI next = uri.resolve(location);
                sameHost = sameHost && Authenticator.hostPort(next).equals(Authenticator.hostPort(call.base()));
                uri = next;
                continue;
            }
            return r;
        }
    }

    private HttpResponse<InputStream> exchange(URI base, HttpRequest req) throws RegistryException {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new RegistryException(
                    "registry " + base + " is unreachable (" + e.getClass().getSimpleName()
                            + "): is it running, and are --registry-mirror / --insecure-registry right?",
                    e);
        } catch (SSLException e) {
            throw new RegistryException(
                    "TLS with registry " + base + " failed (" + e.getMessage()
                            + "): if it serves plain HTTP, pass --insecure-registry " + Authenticator.hostPort(base),
                    e);
        } catch (IOException e) {
            throw new RegistryException(
                    "talking to registry " + base + " failed (" + e + "): retry, or check the network", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while talking to " + base, e);
        }
    }

    static void close(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            in.skipNBytes(0);
        } catch (IOException ignored) {
            // the connection is discarded; nothing else to do
        }
    }
}
