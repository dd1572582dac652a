package dev.stagefarm.coordinator.schedule;

import java.time.Instant;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * A job as the queue sees it: who asked, how urgent it is within its build, and where its
 * inputs are.
 *
 * @param workKey what the job computes, for running identical work once: two tickets with the
 *                same key (which includes the team) get one run and share its result
 * @param buildSubmitted when the job's build was submitted: earlier builds of a team go first
 * @param criticalPath the longest chain of stages left from this job to the build's target
 *                     (this stage included): within a build the longest chain goes first
 * @param localBytes bytes of the job's inputs a worker (by name) already holds
 */
public record JobTicket(
        String jobId,
        String team,
        String buildId,
        String workKey,
        Instant buildSubmitted,
        int criticalPath,
        ToLongFunction<String> localBytes,
        Set<String> needs) {

    public JobTicket {
        needs = Set.copyOf(needs);
    }

    /** A job that needs no entitlement: any worker may take it. */
    public JobTicket(
            String jobId,
            String team,
            String buildId,
            String workKey,
            Instant buildSubmitted,
            int criticalPath,
            ToLongFunction<String> localBytes) {
        this(jobId, team, buildId, workKey, buildSubmitted, criticalPath, localBytes, Set.of());
    }

    /** A ticket whose work is its own: nothing else is ever merged with it. */
    public static JobTicket unique(String jobId, String team, String buildId, Instant buildSubmitted) {
        return new JobTicket(jobId, team, buildId, "job:" + jobId, buildSubmitted, 1, w -> 0);
    }
}
