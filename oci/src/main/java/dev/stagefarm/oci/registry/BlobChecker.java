package dev.stagefarm.oci.registry;

import dev.stagefarm.common.Digest;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Map;

/** HEAD /v2/&lt;name&gt;/blobs/&lt;digest&gt;: does the repository already hold the blob? */
final class BlobChecker {

    private BlobChecker() {}

    static boolean exists(RegistryTransport transport, URI base, String repository, Digest digest, boolean forPush)
            throws RegistryException {
        URI uri = RegistryTransport.v2(base, repository + "/blobs/" + digest);
        HttpResponse<InputStream> r =
                transport.send(new RegistryTransport.Call(base, repository, forPush, "HEAD", uri, Map.of(), null));
        if (r.statusCode() == 200) {
            RegistryTransport.close(r);
            return true;
        }
        if (r.statusCode() == 404) {
            RegistryTransport.close(r);
            return false;
        }
        throw RegistryErrors.of(base, r, "unexpected 404");
    }
}
