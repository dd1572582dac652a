package dev.stagefarm.oci.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageIndex;
import dev.stagefarm.oci.ImageManifest;
import dev.stagefarm.oci.ManifestBlob;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Translates manifests and indexes to and from JSON (OCI and Docker schema2 media types). */
public final class ManifestJson {

    private ManifestJson() {}

    /**
     * The media type of a manifest document: its own {@code mediaType} field, else the Content-Type the
     * registry sent, else inferred from the shape (an OCI manifest may omit the field).
     */
    public static String mediaTypeOf(byte[] json, String contentType) throws IOException {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IOException("manifest is not JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new IOException("manifest is not a JSON object");
        }
        if (node.hasNonNull("mediaType")) {
            return node.get("mediaType").asText();
        }
        String ct = contentType == null ? "" : contentType.split(";")[0].strip();
        if (MediaTypes.isIndex(ct) || MediaTypes.isManifest(ct)) {
            return ct;
        }
        if (node.has("fsLayers")) {
            throw new IOException(
                    "the image has a Docker schema 1 manifest, which is no longer supported: rebuild or re-push it");
        }
        return node.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
    }

    public static ImageManifest parseManifest(byte[] json, String mediaType) throws IOException {
        ManifestTemplate t = Json.read(json, ManifestTemplate.class, "manifest");
        if (t.config == null) {
            throw new IOException("manifest has no config descriptor");
        }
        List<Descriptor> layers = new ArrayList<>();
        for (DescriptorTemplate l : t.layers == null ? List.<DescriptorTemplate>of() : t.layers) {
            layers.add(descriptor(l));
        }
        return new ImageManifest(mediaType, descriptor(t.config), layers, t.annotations);
    }

    public static ImageIndex parseIndex(byte[] json, String mediaType) throws IOException {
        IndexTemplate t = Json.read(json, IndexTemplate.class, "index");
        List<Descriptor> manifests = new ArrayList<>();
        for (DescriptorTemplate d : t.manifests == null ? List.<DescriptorTemplate>of() : t.manifests) {
            manifests.add(descriptor(d));
        }
        return new ImageIndex(mediaType, manifests);
    }

    public static byte[] toJson(ImageManifest manifest) {
        ManifestTemplate t = new ManifestTemplate();
        t.schemaVersion = 2;
        t.mediaType = manifest.mediaType();
        t.config = template(manifest.config());
        t.layers = manifest.layers().stream().map(ManifestJson::template).toList();
        t.annotations = manifest.annotations().isEmpty() ? null : manifest.annotations();
        return Json.write(t);
    }

    public static byte[] toJson(ImageIndex index) {
        IndexTemplate t = new IndexTemplate();
        t.schemaVersion = 2;
        t.mediaType = index.mediaType();
        t.manifests = index.manifests().stream().map(ManifestJson::template).toList();
        return Json.write(t);
    }

    /** Serializes a manifest we made ourselves, once, so its digest is fixed from here on. */
    public static ManifestBlob blobOf(ImageManifest manifest) {
        return new ManifestBlob(toJson(manifest), manifest);
    }

    private static Descriptor descriptor(DescriptorTemplate t) throws IOException {
        if (t.mediaType == null || t.digest == null || t.size == null) {
            throw new IOException("descriptor lacks mediaType, digest or size: " + t.digest);
        }
        Platform p = null;
        if (t.platform != null && t.platform.os != null && t.platform.architecture != null) {
            p = new Platform(t.platform.os, t.platform.architecture, t.platform.variant);
        }
        try {
            return new Descriptor(t.mediaType, Digest.parse(t.digest), t.size, t.annotations, p);
        } catch (IllegalArgumentException e) {
            throw new IOException("unusable descriptor: " + e.getMessage(), e);
        }
    }

    private static DescriptorTemplate template(Descriptor d) {
        DescriptorTemplate t = new DescriptorTemplate();
        t.mediaType = d.mediaType();
        t.digest = d.digest().toString();
        t.size = d.size();
        t.annotations = d.annotations().isEmpty() ? null : d.annotations();
        if (d.platform() != null) {
            t.platform = new DescriptorTemplate.PlatformTemplate();
            t.platform.os = d.platform().os();
            t.platform.architecture = d.platform().architecture();
            t.platform.variant =
                    d.platform().variant().isEmpty() ? null : d.platform().variant();
        }
        return t;
    }
}
