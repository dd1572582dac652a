package dev.stagefarm.oci.registry;

import dev.stagefarm.common.Digest;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

/** PUT /v2/&lt;name&gt;/manifests/&lt;tag or digest&gt;. */
final class ManifestPusher {

    private ManifestPusher() {}

    static Digest push(
            RegistryTransport transport,
            URI base,
            String repository,
            String reference,
            String mediaType,
            byte[] manifest)
            throws RegistryException {
        Digest digest = Digest.of(manifest);
        URI uri = RegistryTransport.v2(base, repository + "/manifests/" + reference);
        HttpResponse<InputStream> r = transport.send(new RegistryTransport.Call(
                base,
                repository,
                true,
                "PUT",
                uri,
                Map.of("Content-Type", mediaType),
                () -> HttpRequest.BodyPublishers.ofByteArray(manifest)));
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw RegistryErrors.of(base, r, "the registry does not know repository " + repository);
        }
        RegistryTransport.close(r);
        String announced = r.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (announced != null && announced.startsWith("sha256:") && !announced.equals(digest.toString())) {
            throw new RegistryException("registry " + base + " stored the manifest as " + announced + " but we sent "
                    + digest + ": it rewrote the manifest, so the image's digest is not what the build computed");
        }
        return digest;
    }
}
