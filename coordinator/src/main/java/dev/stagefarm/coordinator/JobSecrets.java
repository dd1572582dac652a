package dev.stagefarm.coordinator;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.RunMount;
import dev.stagefarm.proto.farm.Step;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What of a build's secrets and ssh agents one job receives: only those its own steps that will
 * run mount. A worker (and whatever escapes a step on it) thus never holds a secret another stage
 * of the build, or a cached step, asked for.
 */
final class JobSecrets {

    private JobSecrets() {}

    /**
     * Hands {@code job} the build's secrets and agents its steps mount, as they came (never part
     * of a key, a log or the cache); call once its steps are added.
     */
    static void attach(Job.Builder job, BuildRequest request) {
        job.putAllSecrets(secrets(request.getSecretsMap(), job.getStepsList()));
        List<String> sshIds = sshIds(request.getSshIdsList(), job.getStepsList());
        if (!sshIds.isEmpty()) {
            job.setAgentSessionId(request.getSessionId()).addAllSshIds(sshIds);
        }
    }

    /** The secrets that {@code steps} mount with {@code RUN --mount=type=secret}, from {@code all}. */
    static Map<String, ByteString> secrets(Map<String, ByteString> all, List<Step> steps) {
        Map<String, ByteString> mounted = new LinkedHashMap<>();
        for (RunMount m : mounts(steps)) {
            if (m.hasSecret() && all.containsKey(m.getSecret().getId())) {
                mounted.put(m.getSecret().getId(), all.get(m.getSecret().getId()));
            }
        }
        return mounted;
    }

    /** The ssh agent ids that {@code steps} mount with {@code RUN --mount=type=ssh}, from {@code all}. */
    static List<String> sshIds(List<String> all, List<Step> steps) {
        Set<String> mounted = new LinkedHashSet<>();
        for (RunMount m : mounts(steps)) {
            if (m.hasSsh() && all.contains(m.getSsh().getId())) {
                mounted.add(m.getSsh().getId());
            }
        }
        return List.copyOf(mounted);
    }

    /** Mounts of the steps a worker will run: a cached step runs nothing and needs no secret. */
    private static List<RunMount> mounts(List<Step> steps) {
        return steps.stream()
                .filter(s -> !s.getIsCached() && s.hasRun())
                .flatMap(s -> s.getRun().getMountsList().stream())
                .toList();
    }
}
