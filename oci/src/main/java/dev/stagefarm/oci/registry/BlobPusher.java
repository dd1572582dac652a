package dev.stagefarm.oci.registry;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

/**
 * Monolithic upload: POST /v2/&lt;name&gt;/blobs/uploads/ opens a session, one streaming PUT with
 * {@code ?digest=} closes it. The registry verifies the digest itself and answers DIGEST_INVALID otherwise.
 */
final class BlobPusher {

    private BlobPusher() {}

    static void push(
            RegistryTransport transport, URI base, String repository, Digest digest, long size, BlobSource source)
            throws RegistryException {
        URI start = RegistryTransport.v2(base, repository + "/blobs/uploads/");
        HttpResponse<InputStream> r = transport.send(new RegistryTransport.Call(
                base, repository, true, "POST", start, Map.of(), HttpRequest.BodyPublishers::noBody));
        if (r.statusCode() != 202) {
            throw RegistryErrors.of(
                    base, r, "the registry does not know repository " + repository + " or refuses uploads to it");
        }
        RegistryTransport.close(r);
        String location = r.headers()
                .firstValue("Location")
                .orElseThrow(() -> new RegistryException("registry " + base
                        + " opened an upload without a Location header: it is not a Distribution v2 registry"));
        URI session = start.resolve(location);
        URI put = URI.create(session + (session.getRawQuery() == null ? "?" : "&") + "digest=" + digest);
        HttpResponse<InputStream> done = transport.send(new RegistryTransport.Call(
                base,
                repository,
                true,
                "PUT",
                put,
                Map.of("Content-Type", "application/octet-stream"),
                () -> HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(() -> open(source, digest)), size)));
        if (done.statusCode() != 201) {
            throw RegistryErrors.of(base, done, "the upload session vanished; retry the push");
        }
        RegistryTransport.close(done);
    }

    private static InputStream open(BlobSource source, Digest digest) {
        try {
            return source.open(digest);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + digest + " to push it", e);
        }
    }
}
