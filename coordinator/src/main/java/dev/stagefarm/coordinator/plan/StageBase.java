package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.farm.BaseImage;
import dev.stagefarm.proto.farm.History;
import java.util.List;

/**
 * What a stage starts from: a registry image, scratch, or an earlier stage.
 *
 * @param key the cache key the stage's first step chains from
 * @param description how progress shows the FROM, e.g. {@code docker.io/library/golang:latest@sha256:…}
 */
public record StageBase(
        String key,
        BaseImage image,
        ImageConfigEditor config,
        List<History> history,
        String description,
        int sourceStage) {

    public StageBase {
        history = List.copyOf(history);
    }
}
