package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.plan.StagePlan;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.ArtifactRequest;
import dev.stagefarm.proto.farm.ImageSpec;
import dev.stagefarm.proto.farm.Step;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The action cache as one build's planning sees it. A stage's keys (its steps, exports and image)
 * go to the cache-server in one call, each key once. Before, a stage asked them one call per key,
 * in parallel: 2-10 calls of 5-20 ms each for every stage of a wide graph, all at the moment the
 * workers' first containers started. A hit is kept for the rest of the build (a result, once
 * stored, does not change); a miss is not, as a stage of this build may yet store it.
 */
final class StageLookups {

    /** The action cache as planning sees it: many keys in one call, each a result or empty on a miss. */
    interface ActionLookup {
        Map<String, Optional<ActionResult>> get(List<String> keys) throws IOException;
    }

    private final ActionLookup cache;
    private final Map<String, ActionResult> hits = new ConcurrentHashMap<>();

    StageLookups(ActionLookup cache) {
        this.cache = cache;
    }

    /** What one stage found: a key it did not ask is a miss. */
    record Answers(Map<String, Optional<ActionResult>> byKey) {
        static final Answers NONE = new Answers(Map.of());

        Optional<ActionResult> get(String key) {
            return byKey.getOrDefault(key, Optional.empty());
        }

        /** The stage's layers, its base's and then each step's, when every step was found. */
        Optional<List<Layer>> layers(StagePlan plan) {
            List<Layer> layers = new ArrayList<>(plan.base().image().getLayersList());
            for (Step step : plan.steps()) {
                Optional<ActionResult> hit = get(step.getKey());
                if (hit.isEmpty() || !hit.get().hasStep()) {
                    return Optional.empty();
                }
                if (hit.get().getStep().hasLayer()) {
                    layers.add(hit.get().getStep().getLayer());
                }
            }
            return Optional.of(layers);
        }

        /** The step, marked cached with its result when it was found: the worker skips it. */
        Step markCached(Step step) {
            Optional<ActionResult> hit = get(step.getKey());
            if (hit.isPresent() && hit.get().hasStep()) {
                return step.toBuilder()
                        .setIsCached(true)
                        .setCached(hit.get().getStep())
                        .build();
            }
            return step;
        }
    }

    /** Every key a stage's result is made of: its steps, then its exports, then its image. */
    static List<String> keysOf(StagePlan plan, List<ArtifactRequest> exports, Optional<ImageSpec> image) {
        List<String> keys = new ArrayList<>();
        plan.steps().forEach(step -> keys.add(step.getKey()));
        exports.forEach(export -> keys.add(export.getKey()));
        image.ifPresent(spec -> keys.add(spec.getKey()));
        return keys;
    }

    /** @throws IOException the cache-server could not answer one of them */
    Answers lookUp(List<String> keys) throws IOException {
        Map<String, Optional<ActionResult>> found = new LinkedHashMap<>();
        List<String> ask = new ArrayList<>();
        for (String key : keys) {
            ActionResult hit = hits.get(key);
            if (hit != null) {
                found.put(key, Optional.of(hit));
            } else if (!ask.contains(key)) {
                ask.add(key);
            }
        }
        if (!ask.isEmpty()) {
            cache.get(ask).forEach((key, answer) -> found.put(key, remember(key, answer)));
        }
        return new Answers(found);
    }

    private Optional<ActionResult> remember(String key, Optional<ActionResult> answer) {
        answer.ifPresent(hit -> hits.put(key, hit));
        return answer;
    }
}
