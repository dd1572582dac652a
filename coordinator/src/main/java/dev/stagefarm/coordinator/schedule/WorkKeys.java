package dev.stagefarm.coordinator.schedule;

import com.google.protobuf.CodedOutputStream;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.farm.ImageSpec;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.Step;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * What makes two jobs the same work: the team and everything the worker is sent except the
 * ids that name the build. Two builds of the same stage with the same inputs get the same key;
 * a difference in anything a worker sees (secrets, ssh session, exports, image) keeps them apart.
 * A final image counts by its cache key: its history carries the time it was planned, which two
 * builds of the same image submitted a second apart do not share.
 */
public final class WorkKeys {

    private WorkKeys() {}

    public static String of(String team, Job job) {
        Job.Builder work = job.toBuilder().clearJobId().clearBuildId().clearWorkKey();
        if (job.hasImage() && !job.getImage().getKey().isEmpty()) {
            work.setImage(ImageSpec.newBuilder().setKey(job.getImage().getKey()));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            bytes.write(team.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
            var out = CodedOutputStream.newInstance(bytes);
            out.useDeterministicSerialization(); // map fields (secrets) in a stable order
            work.build().writeTo(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return team + "/" + Digest.of(bytes.toByteArray());
    }

    /**
     * What a run a worker kept going through a coordinator restart is matched by: the work's key
     * without the steps found cached when it was planned (the run may have stored some of its
     * own steps since, so its resubmission finds them cached) and without the client's agent
     * session (a resubmission opens another).
     */
    public static String adoption(String team, Job job) {
        Job.Builder work = job.toBuilder().clearAgentSessionId();
        for (Step.Builder step : work.getStepsBuilderList()) {
            step.clearCached().clearIsCached();
        }
        return "adopt:" + of(team, work.build());
    }
}
