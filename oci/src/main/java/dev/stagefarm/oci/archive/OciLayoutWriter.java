package dev.stagefarm.oci.archive;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageIndex;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.ManifestBlob;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.json.ManifestJson;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes an OCI image layout as a tar, as BuildKit's {@code type=oci} output does: {@code oci-layout},
 * {@code index.json} with one entry per tag (annotated {@code org.opencontainers.image.ref.name} = the tag
 * and {@code io.containerd.image.name} = the full name), and {@code blobs/sha256/}.
 */
public final class OciLayoutWriter {

    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    public static final String CONTAINERD_NAME = "io.containerd.image.name";

    public void write(BlobSource blobs, ManifestBlob manifest, List<ImageReference> tags, OutputStream out)
            throws IOException {
        Descriptor top = manifest.descriptor();
        List<Descriptor> entries = new ArrayList<>();
        for (ImageReference t : tags) {
            ImageReference name = t.withDigest(null);
            entries.add(top.withAnnotations(Map.of(CONTAINERD_NAME, name.toString(), REF_NAME, name.tag())));
        }
        if (entries.isEmpty()) {
            entries.add(top);
        }
        byte[] index = ManifestJson.toJson(new ImageIndex(MediaTypes.OCI_INDEX, entries));
        try (ImageTar tar = new ImageTar(out)) {
            tar.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            tar.file("index.json", index);
            tar.directory("blobs");
            tar.directory("blobs/sha256");
            tar.file(ImageTar.blobPath(top.digest()), manifest.bytes());
            Descriptor config = manifest.manifest().config();
            tar.blob(ImageTar.blobPath(config.digest()), blobs, config);
            for (Descriptor layer : manifest.manifest().layers()) {
                tar.blob(ImageTar.blobPath(layer.digest()), blobs, layer);
            }
        }
    }
}
