package dev.stagefarm.worker.job;

import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.LogLine;
import dev.stagefarm.worker.exec.OutputChunks;
import java.util.function.Consumer;

/** One step's output as job events: chunks of raw bytes in {@code data}, the farm's lines in {@code text}. */
final class StepLog implements OutputChunks.Sink {

    private final Consumer<JobEvent> events;
    private final String jobId;
    private final int stageIndex;
    private final int stepIndex;

    StepLog(Consumer<JobEvent> events, Job job, int stepIndex) {
        this.events = events;
        this.jobId = job.getJobId();
        this.stageIndex = job.getStageIndex();
        this.stepIndex = stepIndex;
    }

    @Override
    public void chunk(byte[] data) {
        send(line().setData(UnsafeByteOperations.unsafeWrap(data))); // a fresh array, never written again
    }

    @Override
    public void note(String text) {
        send(line().setText(text));
    }

    private LogLine.Builder line() {
        return LogLine.newBuilder().setStageIndex(stageIndex).setStepIndex(stepIndex);
    }

    private void send(LogLine.Builder line) {
        events.accept(JobEvent.newBuilder().setJobId(jobId).setLog(line).build());
    }
}
