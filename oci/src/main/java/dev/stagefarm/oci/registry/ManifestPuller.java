package dev.stagefarm.oci.registry;

import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.json.ManifestJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Map;

/** GET /v2/&lt;name&gt;/manifests/&lt;reference&gt;, verified against the digest asked for or announced. */
final class ManifestPuller {

    /** Manifests are small; a bigger answer is not a manifest. */
    private static final int MAX_MANIFEST_BYTES = 4 << 20;

    record Pulled(byte[] bytes, String mediaType, Digest digest) {}

    private ManifestPuller() {}

    static Pulled pull(RegistryTransport transport, URI base, String repository, String reference, Digest expected)
            throws RegistryException {
        URI uri = RegistryTransport.v2(base, repository + "/manifests/" + reference);
        HttpResponse<InputStream> r = transport.send(new RegistryTransport.Call(
                base,
                repository,
                false,
                "GET",
                uri,
                Map.of("Accept", String.join(", ", MediaTypes.MANIFEST_ACCEPT)),
                null));
        if (r.statusCode() != 200) {
            throw RegistryErrors.of(base, r, RegistryErrors.PUBLISH_HINT);
        }
        byte[] bytes;
        try (InputStream in = r.body()) {
            bytes = in.readNBytes(MAX_MANIFEST_BYTES + 1);
        } catch (IOException e) {
            throw new RegistryException("reading a manifest from " + base + " failed (" + e + "): retry", e);
        }
        if (bytes.length > MAX_MANIFEST_BYTES) {
            throw new RegistryException(
                    "registry " + base + " sent more than 4 MiB for manifest " + reference + ": not a manifest");
        }
        Digest actual = Digest.of(bytes);
        if (expected != null && !expected.equals(actual)) {
            throw new RegistryException("registry " + base + " sent manifest " + actual + " when asked for " + expected
                    + ": the registry or a proxy altered it; do not use this source");
        }
        String announced = r.headers().firstValue("Docker-Content-Digest").orElse(null);
        if (announced != null && announced.startsWith("sha256:") && !announced.equals(actual.toString())) {
            throw new RegistryException("registry " + base + " announced manifest " + announced + " but sent bytes of "
                    + actual + ": the manifest was altered on the way; retry or use another source");
        }
        try {
            String mediaType = ManifestJson.mediaTypeOf(
                    bytes, r.headers().firstValue("Content-Type").orElse(null));
            return new Pulled(bytes, mediaType, actual);
        } catch (IOException e) {
            throw new RegistryException(
                    "registry " + base + " sent an unusable manifest for " + reference + ": " + e.getMessage(), e);
        }
    }
}
