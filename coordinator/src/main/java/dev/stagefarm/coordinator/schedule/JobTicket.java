package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.proto.farm.Job;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * A job as the queue sees it: who asked, how urgent it is within its build, and where its
 * inputs are.
 *
 * @param workKey what the job computes, for running identical work once: two tickets with the
 *                same key (which includes the team) get one run and share its result
 * @param buildSubmitted when the job's build was submitted: earlier builds of a team go first
 * @param criticalPath the longest chain of work left from this job to the build's target (this
 *                     stage included), in milliseconds: each stage weighs its steps' recorded
 *                     durations ({@link StageTimings}); within a build the longest chain goes first
 * @param localBytes bytes of the job's inputs a worker (by name) already holds, as the build
 *                   knows it (the stages it ran itself)
 * @param inputs what the job reads that a worker may hold from earlier builds: looked up in
 *               the {@link LocalityIndex} of the job's team; a worker counts the larger of this
 *               and {@code localBytes}
 */
public record JobTicket(
        String jobId,
        String team,
        String buildId,
        String workKey,
        Instant buildSubmitted,
        long criticalPath,
        ToLongFunction<String> localBytes,
        Set<String> needs,
        List<JobInput> inputs) {

    public JobTicket {
        needs = Set.copyOf(needs);
        inputs = List.copyOf(inputs);
    }

    /** A job with no inputs for the locality index to look up. */
    public JobTicket(
            String jobId,
            String team,
            String buildId,
            String workKey,
            Instant buildSubmitted,
            long criticalPath,
            ToLongFunction<String> localBytes,
            Set<String> needs) {
        this(jobId, team, buildId, workKey, buildSubmitted, criticalPath, localBytes, needs, List.of());
    }

    /** A job that needs no entitlement: any worker may take it. */
    public JobTicket(
            String jobId,
            String team,
            String buildId,
            String workKey,
            Instant buildSubmitted,
            long criticalPath,
            ToLongFunction<String> localBytes) {
        this(jobId, team, buildId, workKey, buildSubmitted, criticalPath, localBytes, Set.of(), List.of());
    }

    /**
     * A job of its own, never merged with another, for callers that know nothing of the build
     * around it.
     *
     * @param localBytes bytes of the job's inputs a worker (by name) already holds
     */
    public static JobTicket alone(Job job, Instant now, ToLongFunction<String> localBytes) {
        return new JobTicket(
                        job.getJobId(), job.getTeam(), job.getBuildId(), "job:" + job.getJobId(), now, 1, localBytes)
                .withInputs(JobInputs.of(job));
    }

    /** The same job with these inputs for the locality index. */
    public JobTicket withInputs(List<JobInput> inputs) {
        return new JobTicket(jobId, team, buildId, workKey, buildSubmitted, criticalPath, localBytes, needs, inputs);
    }

    /** The same job as another piece of work (a run a reconnected worker reported). */
    public JobTicket withWorkKey(String workKey) {
        return new JobTicket(jobId, team, buildId, workKey, buildSubmitted, criticalPath, localBytes, needs, inputs);
    }

    /** A ticket whose work is its own: nothing else is ever merged with it. */
    public static JobTicket unique(String jobId, String team, String buildId, Instant buildSubmitted) {
        return new JobTicket(jobId, team, buildId, "job:" + jobId, buildSubmitted, 1, w -> 0);
    }
}
