package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.plan.ImageConfigEditor;
import dev.stagefarm.dockerfile.ArgScope;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.ImageResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.StageReport;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A finished stage: what later stages build on or copy from, and what the user is told.
 *
 * @param args the ARGs the stage declared: a stage built FROM it starts with them
 * @param artifacts by the source list a consumer copies (see {@link BuildRun#artifactId})
 * @param worker where it ran; empty when every result came from the cache
 */
record StageOutcome(
        int index,
        String stageKey,
        List<Layer> layers,
        ImageConfigEditor config,
        ArgScope args,
        List<History> history,
        Map<String, ArtifactResult> artifacts,
        Optional<ImageResult> image,
        String worker,
        StageReport report) {

    long layerBytes() {
        return layers.stream().mapToLong(Layer::getSize).sum();
    }
}
