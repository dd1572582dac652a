package dev.stagefarm.worker.kube;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * One call of the Kubernetes API: a JSON merge patch of one annotation on this worker's own pod,
 * {@code PATCH /api/v1/namespaces/NS/pods/NAME} with the service account's bearer token, over TLS
 * that trusts the cluster's CA only. fabric8's kubernetes-client would bring some 16 MB of jars
 * (every API group's model) and their share of the AOT cache into the image for this one request.
 */
public final class PodPatcher implements AutoCloseable {

    static final String MERGE_PATCH = "application/merge-patch+json";

    private final InCluster pod;
    private final HttpClient http;

    public PodPatcher(InCluster pod) throws IOException {
        this.pod = pod;
        this.http = HttpClient.newBuilder()
                .sslContext(trusting(pod))
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /**
     * Sets annotation {@code key} to {@code value} on the pod.
     *
     * @throws IOException when the API server cannot be reached or refuses, saying what to fix
     */
    public void annotate(String key, String value) throws IOException, InterruptedException {
        String body = "{\"metadata\":{\"annotations\":{" + json(key) + ":" + json(value) + "}}}";
        String token = Files.readString(pod.tokenFile()).strip();
        HttpRequest request = HttpRequest.newBuilder(uri())
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", MERGE_PATCH)
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + token)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status / 100 != 2) {
            throw new IOException(refusal(status));
        }
    }

    private URI uri() {
        return pod.apiServer()
                .resolve("/api/v1/namespaces/" + segment(pod.namespace()) + "/pods/" + segment(pod.pod()));
    }

    private String refusal(int status) {
        String where = "pod " + pod.namespace() + "/" + pod.pod();
        return switch (status) {
            case 401 ->
                "the API server did not accept the service-account token (401) for " + where
                        + ": check that the token mounted at " + pod.tokenFile() + " is current";
            case 403 ->
                "the API server refused to let the worker patch " + where
                        + " (403): bind its service account to a Role allowing patch on pods in namespace "
                        + pod.namespace() + " (deploy/k8s/base/workers.yaml)";
            case 404 ->
                "the API server knows no " + where + " (404): POD_NAME and POD_NAMESPACE must come"
                        + " from the downward API (metadata.name, metadata.namespace)";
            default -> "the API server answered " + status + " to a patch of " + where;
        };
    }

    private static SSLContext trusting(InCluster pod) throws IOException {
        try (InputStream in = Files.newInputStream(pod.caFile())) {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int i = 0;
            for (Certificate ca : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("ca-" + i++, ca);
            }
            if (i == 0) {
                throw new IOException(pod.caFile() + " holds no certificate: mount the cluster's CA there");
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, trust.getTrustManagers(), null);
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IOException(
                    pod.caFile() + " is not a PEM certificate the worker can trust: " + e.getMessage(), e);
        }
    }

    private static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    /** A JSON string; annotation keys and values here are plain ASCII, escaped anyway. */
    private static String json(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    @Override
    public void close() {
        http.close();
    }
}
