package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.plan.StagePlan;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.farm.ArtifactRequest;
import dev.stagefarm.proto.farm.ImageSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The action cache as one build's planning sees it. A stage's keys (its steps, exports and image)
 * are asked all at once, each key once: before, a stage asked them one by one until the first
 * miss, and a stage that then went to a worker asked its steps' keys again to mark the cached
 * ones. A hit is kept for the rest of the build (a result, once stored, does not change); a miss
 * is not, as a stage of this build may yet store it.
 */
final class StageLookups {

    private final BuildRun.ActionLookup cache;
    private final Map<String, ActionResult> hits = new ConcurrentHashMap<>();

    StageLookups(BuildRun.ActionLookup cache) {
        this.cache = cache;
    }

    /** What one stage found: a key it did not ask is a miss. */
    record Answers(Map<String, Optional<ActionResult>> byKey) {
        static final Answers NONE = new Answers(Map.of());

        Optional<ActionResult> get(String key) {
            return byKey.getOrDefault(key, Optional.empty());
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
        if (ask.size() == 1) {
            found.put(ask.getFirst(), remember(ask.getFirst(), cache.get(ask.getFirst())));
        } else if (!ask.isEmpty()) {
            askAtOnce(ask, found);
        }
        return new Answers(found);
    }

    private void askAtOnce(List<String> ask, Map<String, Optional<ActionResult>> found) throws IOException {
        try (ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Optional<ActionResult>>> answers = new ArrayList<>();
            for (String key : ask) {
                answers.add(calls.submit(() -> cache.get(key)));
            }
            for (int i = 0; i < ask.size(); i++) {
                found.put(ask.get(i), remember(ask.get(i), answers.get(i).get()));
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking the action cache", e);
        }
    }

    private Optional<ActionResult> remember(String key, Optional<ActionResult> answer) {
        answer.ifPresent(hit -> hits.put(key, hit));
        return answer;
    }
}
