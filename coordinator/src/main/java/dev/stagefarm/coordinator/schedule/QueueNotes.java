package dev.stagefarm.coordinator.schedule;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.QueueEvent;
import java.time.Duration;
import java.util.List;

/** What the dispatcher tells a build about its jobs in the queue, and the failures it reports. */
final class QueueNotes {

    private QueueNotes() {}

    /**
     * The event telling a job's build that it queued or left the queue for a worker (the client
     * draws queue waits from these).
     */
    static JobEvent queued(Job job, String worker, Duration waited, String note) {
        return JobEvent.newBuilder()
                .setJobId(job.getJobId())
                .setQueue(QueueEvent.newBuilder()
                        .setStageIndex(job.getStageIndex())
                        .setStageName(job.getStageName())
                        .setWorker(worker)
                        .setWaitedMillis(waited.toMillis())
                        .setNote(note))
                .build();
    }

    /** What a build's user reads when one of its stages waits for a better-placed worker. */
    static String localityWait(Job job, Scheduler.LocalityWait lw) {
        return "stage " + job.getStageName() + " waits up to " + lw.upTo().toMillis() + " ms for worker "
                + lw.workerName() + ", which holds " + Units.formatSize(lw.savedBytes())
                + " more of its inputs (--locality-wait)";
    }

    /** Why a job that waited {@code workerWait} for a worker fails. */
    static String noWorker(Duration workerWait, String stageName, List<String> lostOn) {
        return lostOn.isEmpty()
                ? "no worker connected within " + seconds(workerWait)
                        + ": start one with `stagefarm worker --coordinator HOST:PORT ...`"
                : "every worker that took stage " + stageName + " went away: " + lostOn;
    }

    static JobResult failure(String jobId, String message) {
        return JobResult.newBuilder()
                .setJobId(jobId)
                .setOk(false)
                .setError(message)
                .build();
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
