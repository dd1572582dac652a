package dev.stagefarm.oci.testing;

import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.HistoryEntry;
import dev.stagefarm.oci.ImageConfig;
import dev.stagefarm.oci.ImageManifest;
import dev.stagefarm.oci.ManifestBlob;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.json.ImageConfigJson;
import dev.stagefarm.oci.json.ManifestJson;
import dev.stagefarm.oci.layer.LayerBlob;
import dev.stagefarm.oci.layer.LayerWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/** A one-layer image holding /hello.txt, made with our own writer, its blobs in a {@link FileBlobSource}. */
public record TestImages(FileBlobSource blobs, ManifestBlob manifest, LayerBlob layer, byte[] config) {

    public static TestImages hello(Path workDir, String text, String architecture, boolean docker) throws Exception {
        Path rootfs = Files.createDirectories(workDir.resolve("rootfs-" + architecture));
        Files.writeString(rootfs.resolve("hello.txt"), text);
        LayerBlob layer = new LayerWriter(LayerWriter.Options.defaults())
                .writeDirectory(rootfs, workDir.resolve("layer-" + architecture + ".tgz"));
        ImageConfig config = ImageConfig.builder()
                .architecture(architecture)
                .created(Instant.EPOCH)
                .cmd(List.of("/bin/cat", "/hello.txt"))
                .build()
                .withLayer(layer.diffId(), HistoryEntry.of(Instant.EPOCH, "COPY hello.txt /", false));
        byte[] configJson = ImageConfigJson.toJson(config);
        FileBlobSource blobs = new FileBlobSource();
        blobs.add(configJson);
        blobs.add(layer.file());
        ImageManifest m = new ImageManifest(
                docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST,
                new Descriptor(
                        docker ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG,
                        Digest.of(configJson),
                        configJson.length),
                List.of(new Descriptor(
                        docker ? MediaTypes.DOCKER_LAYER_GZIP : MediaTypes.OCI_LAYER_GZIP,
                        layer.digest(),
                        layer.size())));
        return new TestImages(blobs, ManifestJson.blobOf(m), layer, configJson);
    }
}
