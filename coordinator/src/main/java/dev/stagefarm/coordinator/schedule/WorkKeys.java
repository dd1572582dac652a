package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.farm.Job;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * What makes two jobs the same work: the team and everything the worker is sent except the
 * ids that name the build. Two builds of the same stage with the same inputs get the same key;
 * a difference in anything a worker sees (secrets, ssh session, exports, image) keeps them apart.
 */
public final class WorkKeys {

    private WorkKeys() {}

    public static String of(String team, Job job) {
        Job work = job.toBuilder().clearJobId().clearBuildId().build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            bytes.write(team.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
            var out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
            out.useDeterministicSerialization(); // map fields (secrets) in a stable order
            work.writeTo(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return team + "/" + Digest.of(bytes.toByteArray());
    }
}
