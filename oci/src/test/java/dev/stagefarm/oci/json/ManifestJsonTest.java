package dev.stagefarm.oci.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.ImageIndex;
import dev.stagefarm.oci.ImageManifest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ManifestJsonTest {

    private static final String A = "sha256:" + "a".repeat(64);
    private static final String B = "sha256:" + "b".repeat(64);

    @Test
    void dockerListPicksThePlatform() throws Exception {
        byte[] list = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST_LIST + "\",\"manifests\":["
                        + "{\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST + "\",\"digest\":\"" + A + "\",\"size\":10,"
                        + "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
                        + "{\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST + "\",\"digest\":\"" + B + "\",\"size\":11,"
                        + "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}")
                .getBytes(StandardCharsets.UTF_8);

        String type = ManifestJson.mediaTypeOf(list, "application/json");
        ImageIndex index = ManifestJson.parseIndex(list, type);

        assertThat(type).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
        assertThat(index.manifestFor(Platform.LINUX_AMD64))
                .hasValueSatisfying(d -> assertThat(d.digest()).isEqualTo(Digest.parse(B)));
        assertThat(index.manifestFor(Platform.parse("linux/arm64")))
                .hasValueSatisfying(d -> assertThat(d.size()).isEqualTo(10));
        assertThat(index.manifestFor(Platform.parse("linux/s390x"))).isEmpty();
    }

    @Test
    void ociManifestWithoutMediaTypeFieldUsesContentTypeAndRoundTrips() throws Exception {
        byte[] m = ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",\"digest\":\"" + A
                        + "\",\"size\":5},\"layers\":[{\"mediaType\":\"" + MediaTypes.OCI_LAYER_GZIP
                        + "\",\"digest\":\"" + B
                        + "\",\"size\":7}]}")
                .getBytes(StandardCharsets.UTF_8);

        ImageManifest parsed = ManifestJson.parseManifest(m, ManifestJson.mediaTypeOf(m, MediaTypes.OCI_MANIFEST));

        assertThat(parsed.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(parsed.layers())
                .singleElement()
                .satisfies(l -> assertThat(l.size()).isEqualTo(7));
        assertThat(ManifestJson.parseManifest(ManifestJson.toJson(parsed), MediaTypes.OCI_MANIFEST))
                .isEqualTo(parsed);
    }

    @Test
    void schema1IsRefusedClearly() {
        byte[] m = "{\"schemaVersion\":1,\"fsLayers\":[]}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(
                        () -> ManifestJson.mediaTypeOf(m, "application/vnd.docker.distribution.manifest.v1+prettyjws"))
                .hasMessageContaining("schema 1");
    }
}
