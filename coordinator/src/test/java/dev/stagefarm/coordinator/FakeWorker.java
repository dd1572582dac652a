package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.farm.ArtifactRequest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.LayersStored;
import dev.stagefarm.proto.farm.PendingStore;
import dev.stagefarm.proto.farm.WorkerDraining;
import dev.stagefarm.proto.farm.WorkerHello;
import dev.stagefarm.proto.farm.WorkerMessage;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A worker session over the real Connect stream that records the jobs it is sent and answers on command. */
final class FakeWorker {

    final String name;
    private final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> cancels = new LinkedBlockingQueue<>();
    private final StreamObserver<WorkerMessage> toCoordinator;

    private FakeWorker(String name, Channel channel) {
        this.name = name;
        this.toCoordinator = CoordinatorGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(CoordinatorMessage message) {
                if (message.hasJob()) {
                    jobs.add(message.getJob());
                } else if (message.hasCancel()) {
                    cancels.add(message.getCancel().getJobId());
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
    }

    /** Opens the session and says hello; the caller waits for the coordinator to list it. */
    static FakeWorker connect(String name, Channel channel) {
        return connect(name, 1, channel, List.of());
    }

    static FakeWorker connect(String name, int slots, Channel channel) {
        return connect(name, slots, channel, List.of());
    }

    /** @param warnings what the worker tells operators about itself, as a real one does about its runc */
    static FakeWorker connect(String name, Channel channel, List<String> warnings) {
        return connect(name, 1, channel, warnings);
    }

    static FakeWorker connect(String name, int slots, Channel channel, List<String> warnings) {
        return connect(WorkerHello.newBuilder().setName(name).setSlots(slots).addAllWarnings(warnings), channel);
    }

    /** A worker that (re)connects while it still stores the last layers of jobs that reported early. */
    static FakeWorker connectStoring(String name, int slots, Channel channel, List<PendingStore> storing) {
        return connect(WorkerHello.newBuilder().setName(name).setSlots(slots).addAllStoring(storing), channel);
    }

    private static FakeWorker connect(WorkerHello.Builder hello, Channel channel) {
        FakeWorker w = new FakeWorker(hello.getName(), channel);
        w.toCoordinator.onNext(WorkerMessage.newBuilder().setHello(hello).build());
        return w;
    }

    Job nextJob() throws InterruptedException {
        Job job = jobs.poll(10, TimeUnit.SECONDS);
        assertThat(job).as("a job sent to %s", name).isNotNull();
        return job;
    }

    /** The id of the next job the coordinator asks this worker to stop. */
    String nextCancel(Duration within) throws InterruptedException {
        String id = cancels.poll(within.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(id).as("a job cancelled on %s within %s", name, within).isNotNull();
        return id;
    }

    void fail(Job job, String error) {
        toCoordinator.onNext(WorkerMessage.newBuilder()
                .setResult(JobResult.newBuilder()
                        .setJobId(job.getJobId())
                        .setOk(false)
                        .setError(error))
                .build());
    }

    void assertNoJobWithin(Duration d) throws InterruptedException {
        assertThat(jobs.poll(d.toMillis(), TimeUnit.MILLISECONDS))
                .as("a job sent to %s", name)
                .isNull();
    }

    void report(JobEvent event) {
        toCoordinator.onNext(WorkerMessage.newBuilder().setEvent(event).build());
    }

    void finish(Job job, String stageKey) {
        toCoordinator.onNext(WorkerMessage.newBuilder()
                .setResult(JobResult.newBuilder()
                        .setJobId(job.getJobId())
                        .setOk(true)
                        .setStageKey(stageKey))
                .build());
    }

    /**
     * The result a worker sends for a {@code layers_unneeded} job once its artifacts are out, before
     * its last layer is stored: each export as an artifact of its paths' names.
     */
    void reportBeforeStore(Job job) {
        JobResult.Builder result = JobResult.newBuilder()
                .setJobId(job.getJobId())
                .setOk(true)
                .setStageKey(job.getStageKey())
                .setLayersPending(true);
        for (ArtifactRequest export : job.getExportsList()) {
            byte[] bytes = String.join(",", export.getPathsList()).getBytes(StandardCharsets.UTF_8);
            result.addArtifacts(ArtifactResult.newBuilder()
                    .setDigest(Digest.of(bytes).toString())
                    .setSize(bytes.length)
                    .setContentDigest(Digest.of(bytes).toString()));
        }
        toCoordinator.onNext(WorkerMessage.newBuilder().setResult(result).build());
    }

    /** After {@link #reportBeforeStore}: the job's last layer is stored ({@code ok}) or could not be. */
    void layersStored(Job job, boolean ok) {
        toCoordinator.onNext(WorkerMessage.newBuilder()
                .setLayersStored(
                        LayersStored.newBuilder().setJobId(job.getJobId()).setOk(ok))
                .build());
    }

    /** Anything else a worker says. */
    void send(WorkerMessage message) {
        toCoordinator.onNext(message);
    }

    /** SIGTERM: the worker drains. */
    void drain() {
        toCoordinator.onNext(WorkerMessage.newBuilder()
                .setDraining(WorkerDraining.getDefaultInstance())
                .build());
    }

    /** The worker process dies: its stream breaks without a goodbye. */
    void die() {
        toCoordinator.onError(new RuntimeException("worker " + name + " killed"));
    }
}
