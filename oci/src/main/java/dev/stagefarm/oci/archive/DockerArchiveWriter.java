package dev.stagefarm.oci.archive;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.common.BlobSource;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.ManifestBlob;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * Writes a {@code docker save} archive: {@code manifest.json} naming the config and the layers (stored,
 * as Docker 25+ stores them, under {@code blobs/sha256/}), and the blobs. {@code docker load} detects gzip
 * layers itself.
 */
public final class DockerArchiveWriter {

    /** One image of manifest.json. */
    record Entry(
            @JsonProperty("Config") String config,
            @JsonProperty("RepoTags") List<String> repoTags,
            @JsonProperty("Layers") List<String> layers) {}

    private final ObjectMapper mapper = new ObjectMapper();

    /**
     * @param tags names to load the image as (may be empty: then it loads untagged)
     */
    public void write(BlobSource blobs, ManifestBlob manifest, List<ImageReference> tags, OutputStream out)
            throws IOException {
        List<Descriptor> layers = manifest.manifest().layers();
        Descriptor config = manifest.manifest().config();
        Entry entry = new Entry(
                ImageTar.blobPath(config.digest()),
                tags.stream().map(t -> t.withDigest(null).toFamiliarString()).toList(),
                layers.stream().map(l -> ImageTar.blobPath(l.digest())).toList());
        try (ImageTar tar = new ImageTar(out)) {
            tar.directory("blobs");
            tar.directory("blobs/sha256");
            tar.blob(ImageTar.blobPath(config.digest()), blobs, config);
            for (Descriptor layer : layers) {
                tar.blob(ImageTar.blobPath(layer.digest()), blobs, layer);
            }
            tar.file("manifest.json", mapper.writeValueAsBytes(List.of(entry)));
        }
    }
}
