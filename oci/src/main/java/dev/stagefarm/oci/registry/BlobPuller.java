package dev.stagefarm.oci.registry;

import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Map;

/**
 * GET /v2/&lt;name&gt;/blobs/&lt;digest&gt;: streams into a temporary file beside the target, checks size and
 * digest, then renames atomically, so a reader never sees a partial or wrong blob.
 */
final class BlobPuller {

    private BlobPuller() {}

    static void pullToFile(RegistryTransport transport, URI base, String repository, Descriptor d, Path dest)
            throws RegistryException, IOException {
        HttpResponse<InputStream> r = open(transport, base, repository, d.digest());
        Path dir = dest.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + d.digest().encoded().substring(0, 12), ".partial");
        try {
            MessageDigest sha = Digest.newSha256();
            long total = 0;
            try (InputStream in = r.body();
                    OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    total += n;
                    if (total > d.size()) {
                        throw new RegistryException(
                                "registry " + base + " sent more than the " + d.size() + " bytes of blob " + d.digest()
                                        + ": the blob is corrupt there; do not use this source");
                    }
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                }
            } catch (IOException e) {
                throw new RegistryException(
                        "download of blob " + d.digest() + " from " + base + " broke off (" + e + "): retry", e);
            }
            verify(base, d, total, Digest.fromBytes(sha.digest()));
            try {
                Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static final int MAX_CONFIG_BYTES = 8 << 20;

    /** Reads a small blob (an image config) into memory, verified; at most its descriptor's size is read. */
    static byte[] pullSmall(RegistryTransport transport, URI base, String repository, Descriptor d)
            throws RegistryException {
        if (d.size() < 0 || d.size() > MAX_CONFIG_BYTES) {
            // held in the coordinator's memory for the build: real configs are tens of KiB
            throw new RegistryException("image config " + d.digest() + " in " + repository + " claims " + d.size()
                    + " bytes, more than the 8 MiB a config may have: use another base image");
        }
        HttpResponse<InputStream> r = open(transport, base, repository, d.digest());
        byte[] bytes;
        try (InputStream in = r.body()) {
            bytes = in.readNBytes((int) d.size() + 1);
        } catch (IOException e) {
            throw new RegistryException(
                    "download of blob " + d.digest() + " from " + base + " broke off (" + e + "): retry", e);
        }
        verify(base, d, bytes.length, Digest.of(bytes));
        return bytes;
    }

    private static HttpResponse<InputStream> open(
            RegistryTransport transport, URI base, String repository, Digest digest) throws RegistryException {
        URI uri = RegistryTransport.v2(base, repository + "/blobs/" + digest);
        HttpResponse<InputStream> r =
                transport.send(new RegistryTransport.Call(base, repository, false, "GET", uri, Map.of(), null));
        if (r.statusCode() != 200) {
            throw RegistryErrors.of(
                    base,
                    r,
                    "the registry lacks blob " + digest + " that the image's manifest names: re-push the image");
        }
        return r;
    }

    private static void verify(URI base, Descriptor d, long size, Digest actual) throws RegistryException {
        if (size != d.size() || !actual.equals(d.digest())) {
            throw new RegistryException(
                    "registry " + base + " sent " + size + " bytes with digest " + actual + " for blob " + d.digest()
                            + " (" + d.size() + " bytes): the blob is corrupt there; do not use this source");
        }
    }
}
