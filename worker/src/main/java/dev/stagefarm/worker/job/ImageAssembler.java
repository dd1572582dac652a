package dev.stagefarm.worker.job;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.HistoryEntry;
import dev.stagefarm.oci.ImageConfig;
import dev.stagefarm.oci.ImageManifest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.json.ImageConfigJson;
import dev.stagefarm.oci.json.ManifestJson;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.ImageResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.ImageSpec;
import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Writes the final image: the coordinator's config plus the layers and history only this worker
 * knows, an OCI manifest, all of it into the cache-server.
 */
final class ImageAssembler {

    private final CacheClient cache;
    private final LayerStore layers;

    ImageAssembler(CacheClient cache, LayerStore layers) {
        this.cache = cache;
        this.layers = layers;
    }

    /** @param sourceDateEpoch when the build has one, the image's creation time */
    ImageResult assemble(
            ImageSpec spec, List<Layer> farmLayers, Set<Integer> stepsWithLayer, Optional<Instant> sourceDateEpoch)
            throws IOException {
        List<Layer> imageLayers = new ArrayList<>();
        for (Layer l : farmLayers) {
            imageLayers.add(layers.gzipped(l));
        }
        layers.ensureInCache(imageLayers);
        ImageConfig base = ImageConfigJson.parse(spec.getConfigJson().toByteArray());
        // BuildKit stamps the image with the build time or SOURCE_DATE_EPOCH (history entries come
        // dated by the planner)
        Instant now = sourceDateEpoch.orElseGet(() -> Instant.now().truncatedTo(ChronoUnit.MILLIS));
        List<HistoryEntry> history = new ArrayList<>();
        for (History h : spec.getHistoryList()) {
            boolean empty = h.getStepIndex() >= 0 ? !stepsWithLayer.contains(h.getStepIndex()) : h.getEmptyLayer();
            Instant created = h.getCreated().isEmpty() ? null : Instant.parse(h.getCreated());
            history.add(new HistoryEntry(
                    created,
                    h.getCreatedBy(),
                    null,
                    h.getComment().isEmpty()
                            ? (h.getStepIndex() >= 0 ? "buildkit.dockerfile.v0" : null)
                            : h.getComment(),
                    empty));
        }
        List<Digest> diffIds =
                imageLayers.stream().map(l -> Digest.parse(l.getDiffId())).toList();
        ImageConfig config =
                base.toBuilder().diffIds(diffIds).history(history).created(now).build();
        byte[] configJson = ImageConfigJson.toJson(config);
        Digest configDigest = cache.upload(configJson);
        // OCI media types, as BuildKit's OCI exporter writes them; registries and docker load take them too
        List<Descriptor> descriptors = imageLayers.stream()
                .map(l -> new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digest.parse(l.getDigest()), l.getSize()))
                .toList();
        ImageManifest manifest = new ImageManifest(
                MediaTypes.OCI_MANIFEST,
                new Descriptor(MediaTypes.OCI_CONFIG, configDigest, configJson.length),
                descriptors);
        byte[] manifestJson = ManifestJson.toJson(manifest);
        Digest manifestDigest = cache.upload(manifestJson);
        ImageResult result = ImageResult.newBuilder()
                .setManifestDigest(manifestDigest.toString())
                .setConfigDigest(configDigest.toString())
                .setManifestSize(manifestJson.length)
                .build();
        ActionResult.Builder action = ActionResult.newBuilder()
                .setImage(result)
                .addBlobs(manifestDigest.toString())
                .addBlobs(configDigest.toString());
        imageLayers.forEach(l -> action.addBlobs(l.getDigest()));
        cache.putAction(spec.getKey(), action.build());
        return result;
    }
}
