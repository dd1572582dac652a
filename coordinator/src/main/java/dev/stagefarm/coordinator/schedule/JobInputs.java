package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.Step;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What of a job a worker may already hold, under the keys workers report it by (see {@link
 * LocalityIndex}): its base's layers and its cached steps' layers (the compressed blob or the
 * unpacked snapshot, which workers find by the layer's diffID), the artifacts it copies from
 * other stages, and its build context.
 */
public final class JobInputs {

    private JobInputs() {}

    public static List<JobInput> of(Job job) {
        List<JobInput> inputs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Layer l : job.getBase().getLayersList()) {
            layer(l, inputs, seen);
        }
        for (Step step : job.getStepsList()) {
            if (step.getIsCached() && step.getCached().hasLayer()) {
                layer(step.getCached().getLayer(), inputs, seen);
            }
            if (step.hasCopy()
                    && step.getCopy().getSource().hasStage()
                    && step.getCopy().getSource().getStage().hasArtifact()) {
                var artifact = step.getCopy().getSource().getStage().getArtifact();
                if (seen.add(artifact.getDigest())) {
                    inputs.add(JobInput.of(artifact.getSize(), artifact.getDigest()));
                }
            }
        }
        if (!job.getContextDigest().isEmpty()) {
            // its size is the worker's to say: the job names only the manifest
            inputs.add(JobInput.of(0, "context:" + job.getContextDigest()));
        }
        return inputs;
    }

    private static void layer(Layer l, List<JobInput> inputs, Set<String> seen) {
        if (seen.add(l.getDigest())) {
            inputs.add(JobInput.of(l.getSize(), l.getDigest(), "snapshot:layer:" + l.getDiffId()));
        }
    }
}
