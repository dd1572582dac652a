package dev.stagefarm.bench.sim;

import java.util.List;
import java.util.Map;

/**
 * What one simulated run measured.
 *
 * @param jobs per job id, when it was queued, started and ended and where it ran
 * @param builds per build id, when it was submitted and when its last stage ended
 * @param runsPerWork how often the scheduler placed each piece of work (by wire id): 1 when
 *                    nothing was placed twice
 * @param schedulerCpuNanos this thread's CPU time inside the scheduler's calls (submit, place, finish)
 */
record SimResult(
        Map<String, Job> jobs,
        Map<String, Build> builds,
        Map<String, Integer> runsPerWork,
        long placements,
        long schedulerCpuNanos,
        long fetchedBytes) {

    record Job(String build, int stage, long queuedNanos, long startNanos, long endNanos, String worker) {
        long waitNanos() {
            return startNanos - queuedNanos;
        }
    }

    record Build(String team, long submitNanos, long endNanos) {
        long nanos() {
            return endNanos - submitNanos;
        }
    }

    /** From the first submit to the last build's end. */
    long makespanNanos() {
        long first =
                builds.values().stream().mapToLong(Build::submitNanos).min().orElse(0);
        long last = builds.values().stream().mapToLong(Build::endNanos).max().orElse(0);
        return last - first;
    }

    double meanBuildNanos() {
        return builds.values().stream().mapToLong(Build::nanos).average().orElse(0);
    }

    double meanWaitNanos() {
        return jobs.values().stream().mapToLong(Job::waitNanos).average().orElse(0);
    }

    double cpuNanosPerPlacement() {
        return placements == 0 ? 0 : (double) schedulerCpuNanos / placements;
    }

    List<Job> jobsOf(String build) {
        return jobs.values().stream().filter(j -> j.build().equals(build)).toList();
    }
}
