package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.ArgScope;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.Step;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A stage turned into steps with cache keys, plus the image config and history it ends with.
 *
 * @param stageKey the key of the stage's last filesystem step (its base's key if it has none)
 * @param args the ARGs declared when the stage ends, its base stage's included
 * @param sourceStages stages whose files this stage copies ({@code COPY --from})
 * @param sourceDateEpoch the build's SOURCE_DATE_EPOCH, if it has one (see {@link SourceDateEpoch})
 */
public record StagePlan(
        StageBase base,
        List<Step> steps,
        String stageKey,
        ImageConfigEditor config,
        ArgScope args,
        List<History> history,
        Set<Integer> sourceStages,
        Optional<Instant> sourceDateEpoch) {

    public StagePlan {
        steps = List.copyOf(steps);
        history = List.copyOf(history);
        sourceStages = Set.copyOf(sourceStages);
    }
}
