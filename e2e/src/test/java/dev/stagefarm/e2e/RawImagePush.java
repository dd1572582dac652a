package dev.stagefarm.e2e;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.oci.testing.HandWrittenTar;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Pushes an image made of hand-written tar layers to the local registry with the Distribution
 * API alone: what a build author can publish and then name in FROM, entries no builder would
 * write (paths through symlinks) included. Deliberately not stagefarm's own pusher.
 */
final class RawImagePush {

    private RawImagePush() {}

    /** A registry to push to, and the Authorization header it wants (null for none). */
    record Target(String address, String authorization) {
        static final Target LOCAL = new Target(Farm.REGISTRY, null);

        HttpRequest.Builder request(String path) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + address + path));
            return authorization == null ? b : b.header("Authorization", authorization);
        }
    }

    /** Pushes the layers (gzip) as {@code 127.0.0.1:5000/REPOSITORY:TAG}. */
    static void push(String repository, String tag, List<HandWrittenTar> layers) throws Exception {
        push(Target.LOCAL, repository, tag, layers);
    }

    /** Pushes the layers (gzip) as {@code TARGET/REPOSITORY:TAG}. */
    static void push(Target target, String repository, String tag, List<HandWrittenTar> layers) throws Exception {
        ObjectNode config =
                Images.JSON.createObjectNode().put("architecture", "amd64").put("os", "linux");
        config.putObject("config");
        ArrayNode diffIds = config.putObject("rootfs").put("type", "layers").putArray("diff_ids");
        ObjectNode manifest = Images.JSON
                .createObjectNode()
                .put("schemaVersion", 2)
                .put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        ArrayNode layerDescriptors = manifest.putArray("layers");
        for (HandWrittenTar layer : layers) {
            byte[] tar = layer.toByteArray();
            diffIds.add(sha256(tar));
            ByteArrayOutputStream gz = new ByteArrayOutputStream();
            try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
                out.write(tar);
            }
            layerDescriptors
                    .addObject()
                    .put("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip")
                    .put("digest", blob(target, repository, gz.toByteArray()))
                    .put("size", gz.size());
        }
        byte[] configBytes = Images.JSON.writeValueAsBytes(config);
        manifest.putObject("config")
                .put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", blob(target, repository, configBytes))
                .put("size", configBytes.length);
        HttpResponse<String> put = http().send(
                        target.request(v2(repository) + "/manifests/" + tag)
                                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                                .PUT(HttpRequest.BodyPublishers.ofByteArray(Images.JSON.writeValueAsBytes(manifest)))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 201) {
            throw new AssertionError("manifest push: HTTP " + put.statusCode() + " " + put.body());
        }
    }

    /** Whether the registry holds {@code REPOSITORY:TAG}. */
    static boolean exists(String repository, String tag) throws Exception {
        return http().send(
                                Target.LOCAL
                                        .request(v2(repository) + "/manifests/" + tag)
                                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                                        .header(
                                                "Accept",
                                                "application/vnd.oci.image.manifest.v1+json,"
                                                        + " application/vnd.docker.distribution.manifest.v2+json")
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode()
                == 200;
    }

    private static String blob(Target target, String repository, byte[] data) throws Exception {
        String digest = sha256(data);
        HttpResponse<String> start = http().send(
                        target.request(v2(repository) + "/blobs/uploads/")
                                .POST(HttpRequest.BodyPublishers.noBody())
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (start.statusCode() != 202) {
            throw new AssertionError("blob upload: HTTP " + start.statusCode() + " " + start.body());
        }
        String location = start.headers().firstValue("Location").orElseThrow();
        URI upload = URI.create("http://" + target.address()).resolve(location);
        String query = upload.getRawQuery() == null ? "" : upload.getRawQuery() + "&";
        HttpResponse<String> put = http().send(
                        target.request(upload.getRawPath() + "?" + query + "digest=" + digest)
                                .header("Content-Type", "application/octet-stream")
                                .PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 201) {
            throw new AssertionError("blob upload: HTTP " + put.statusCode() + " " + put.body());
        }
        return digest;
    }

    private static String v2(String repository) {
        return "/v2/" + repository;
    }

    private static HttpClient http() {
        return HttpClient.newHttpClient();
    }

    private static String sha256(byte[] data) throws NoSuchAlgorithmException {
        return "sha256:"
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
