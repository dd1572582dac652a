package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.ArgScope;
import dev.stagefarm.proto.farm.BaseImage;
import dev.stagefarm.proto.farm.History;
import java.util.List;
import java.util.Optional;

/**
 * What a stage starts from: a registry image, scratch, or an earlier stage.
 *
 * @param key the cache key the stage's first step chains from
 * @param args for an earlier stage, the ARGs it declared (BuildKit carries them over)
 * @param description how progress shows the FROM, e.g. {@code docker.io/library/golang:latest@sha256:…}
 */
public record StageBase(
        String key,
        BaseImage image,
        ImageConfigEditor config,
        List<History> history,
        String description,
        int sourceStage,
        Optional<ArgScope> args) {

    public StageBase {
        history = List.copyOf(history);
    }

    /** An image or scratch: no ARGs come with it. */
    public StageBase(
            String key,
            BaseImage image,
            ImageConfigEditor config,
            List<History> history,
            String description,
            int sourceStage) {
        this(key, image, config, history, description, sourceStage, Optional.empty());
    }
}
