package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.DockerfileParser;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.oci.layer.LayerBlob;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code FROM NAME} where {@code --build-context NAME=DIR}: the directory becomes the stage's one
 * base layer, as BuildKit makes a local context a stage's root. Written from the scanned entries
 * (so {@code .dockerignore} applies and links stay links), uploaded to the cache, where workers
 * fetch layers that no registry holds.
 */
final class ContextLayer {

    private ContextLayer() {}

    /** Whether a stage starts {@code FROM name} (as written; a name behind an ARG is not seen). */
    static boolean isBase(String dockerfile, String fileName, String name) {
        try {
            String wanted = name.toLowerCase(Locale.ROOT);
            return DockerfileParser.parse(dockerfile, fileName).stages().stream()
                    .map(Stage::baseImage)
                    .anyMatch(b -> b.toLowerCase(Locale.ROOT).equals(wanted));
        } catch (DockerfileException e) {
            return false; // the coordinator reports the Dockerfile's error, with its line
        }
    }

    static Layer upload(CacheClient cache, Path dir, ContextManifest manifest) throws IOException {
        // files, links and hard links; their directories come with them (a directory entry would
        // bring everything below it, .dockerignore'd files too)
        List<String> paths = manifest.getEntriesList().stream()
                .filter(e -> e.getType() != ContextEntry.Type.DIRECTORY)
                .map(ContextEntry::getPath)
                .toList();
        Path tmp = Files.createTempFile("stagefarm-context-layer", ".tar.gz");
        try {
            LayerBlob blob = new LayerWriter(LayerWriter.Options.defaults())
                    .writeSelected(dir, paths, tmp)
                    .blob();
            cache.upload(blob.digest(), blob.size(), blob.file());
            return Layer.newBuilder()
                    .setDigest(blob.digest().toString())
                    .setDiffId(blob.diffId().toString())
                    .setSize(blob.size())
                    .setMediaType(LayerWriter.Compression.GZIP.ociMediaType())
                    .build();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
