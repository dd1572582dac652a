package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dispatcher driven as CoordinatorService drives it, with streams that record what workers are sent. */
class JobDispatcherTest {

    private final WorkerPool pool = new WorkerPool();
    private final JobDispatcher dispatcher =
            new JobDispatcher(pool, Duration.ofSeconds(5), new SchedulerMetrics(new SimpleMeterRegistry()));

    @AfterEach
    void close() {
        dispatcher.close();
    }

    @Test
    void aLateFailureFromADeadWorkerDoesNotFailTheJob() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        RecordingStream toW2 = new RecordingStream();
        WorkerSession w1 = pool.join("w1", toW1);
        WorkerSession w2 = pool.join("w2", toW2);
        var result = dispatcher.submit(
                Job.newBuilder().setJobId("b-0").setStageName("builder").build(), w -> 0, e -> {});
        assertThat(toW1.next().getJobId()).isEqualTo("b-0");

        pool.leave(w1);
        dispatcher.onWorkerLost(w1);
        assertThat(toW2.next().getJobId()).isEqualTo("b-0");

        dispatcher.onResult(
                w1,
                JobResult.newBuilder()
                        .setJobId("b-0")
                        .setOk(false)
                        .setError("killed")
                        .build());
        assertThat(result).isNotDone();
        dispatcher.onResult(
                w2,
                JobResult.newBuilder()
                        .setJobId("b-0")
                        .setOk(true)
                        .setStageKey("k")
                        .build());

        JobDispatcher.Dispatched done = result.get(5, TimeUnit.SECONDS);
        assertThat(done.worker()).isEqualTo("w2");
        assertThat(done.result().getOk()).isTrue();
        assertThat(w2.load()).isZero();
    }

    @Test
    void aWorkerThatLeavesIdleCostsNoJob() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        RecordingStream toW2 = new RecordingStream();
        pool.join("w1", toW1);
        WorkerSession w2 = pool.join("w2", toW2);
        var result = dispatcher.submit(Job.newBuilder().setJobId("b-0").build(), w -> 0, e -> {});
        assertThat(toW1.next().getJobId()).isEqualTo("b-0");

        pool.leave(w2);
        dispatcher.onWorkerLost(w2);

        assertThat(toW1.sent.poll(200, TimeUnit.MILLISECONDS))
                .as("the job sent again")
                .isNull();
        assertThat(result).isNotDone();
    }

    @Test
    void jobsInFlightWhenTheCoordinatorClosesFailInsteadOfHanging() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = pool.join("w1", toW1);
        var running = dispatcher.submit(Job.newBuilder().setJobId("b-0").build(), w -> 0, e -> {});
        toW1.next();

        // CoordinatorServer.close(): the dispatcher stops, then the server cuts every worker stream
        dispatcher.close();
        pool.leave(w1);
        dispatcher.onWorkerLost(w1);
        var late = dispatcher.submit(Job.newBuilder().setJobId("b-1").build(), w -> 0, e -> {});

        assertThat(running.get(5, TimeUnit.SECONDS).result().getError()).isEqualTo("coordinator shutting down");
        assertThat(late.get(5, TimeUnit.SECONDS).result().getError()).isEqualTo("coordinator shutting down");
    }

    /** What the coordinator's side of a worker's stream is sent. */
    @Test
    void twoBuildsAskingForTheSameWorkGetOneRunAndBothItsResult() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = pool.join("w1", toW1);
        Job a = Job.newBuilder()
                .setJobId("b1-0")
                .setBuildId("b1")
                .setStageKey("k")
                .build();
        Job b = Job.newBuilder()
                .setJobId("b2-0")
                .setBuildId("b2")
                .setStageKey("k")
                .build();
        List<JobEvent> eventsOfB = new CopyOnWriteArrayList<>();
        var first = dispatcher.submit(a, ticket(a), e -> {});
        var second = dispatcher.submit(b, ticket(b), eventsOfB::add);

        assertThat(toW1.next().getJobId()).isEqualTo("b1-0");
        dispatcher.onEvent(JobEvent.newBuilder().setJobId("b1-0").build());
        dispatcher.onResult(
                w1,
                JobResult.newBuilder()
                        .setJobId("b1-0")
                        .setOk(true)
                        .setStageKey("k")
                        .build());

        assertThat(first.get(5, TimeUnit.SECONDS).result().getStageKey()).isEqualTo("k");
        JobDispatcher.Dispatched shared = second.get(5, TimeUnit.SECONDS);
        assertThat(shared.result().getJobId()).isEqualTo("b2-0");
        assertThat(shared.result().getStageKey()).isEqualTo("k");
        assertThat(shared.worker()).isEqualTo("w1");
        assertThat(eventsOfB.stream().filter(e -> !e.hasQueue()))
                .as("the shared run's progress")
                .hasSize(1);
        assertThat(toW1.sent.poll(200, TimeUnit.MILLISECONDS))
                .as("a second run")
                .isNull();
    }

    @Test
    void aBuildHearsWhenItsJobQueuesAndWhichWorkerTakesItAfterHowLong() throws Exception {
        List<JobEvent> events = new CopyOnWriteArrayList<>();
        dispatcher.submit(
                Job.newBuilder()
                        .setJobId("b-0")
                        .setStageIndex(2)
                        .setStageName("builder")
                        .build(),
                w -> 0,
                events::add);
        assertThat(events).hasSize(1);
        assertThat(events.getFirst().getQueue().getWorker())
                .as("queued, no worker yet")
                .isEmpty();
        assertThat(events.getFirst().getQueue().getStageName()).isEqualTo("builder");

        Thread.sleep(50);
        RecordingStream toW1 = new RecordingStream();
        pool.join("w1", toW1);
        toW1.next();

        assertThat(events).hasSize(2);
        var taken = events.get(1).getQueue();
        assertThat(taken.getWorker()).isEqualTo("w1");
        assertThat(taken.getStageIndex()).isEqualTo(2);
        assertThat(taken.getWaitedMillis()).isGreaterThanOrEqualTo(50);
    }

    @Test
    void theQueueShowsItsStateInTheMetricsAnAutoscalerReads() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        WorkerPool pool = new WorkerPool();
        JobDispatcher observed = new JobDispatcher(pool, Duration.ofSeconds(30), new SchedulerMetrics(meters));
        try {
            for (String id : new String[] {"b-0", "b-1"}) {
                observed.submit(Job.newBuilder().setJobId(id).setTeam("team-a").build(), w -> 0, e -> {});
            }
            assertThat(meters.get("stagefarm.jobs.queued")
                            .tag("team", "team-a")
                            .gauge()
                            .value())
                    .isEqualTo(2);

            RecordingStream toW1 = new RecordingStream();
            pool.join("w1", 1, toW1);
            toW1.next();

            assertThat(meters.get("stagefarm.jobs.queued")
                            .tag("team", "team-a")
                            .gauge()
                            .value())
                    .isEqualTo(1);
            assertThat(meters.get("stagefarm.jobs.running")
                            .tag("team", "team-a")
                            .gauge()
                            .value())
                    .isEqualTo(1);
            assertThat(meters.get("stagefarm.worker.slots")
                            .tag("state", "busy")
                            .gauge()
                            .value())
                    .isEqualTo(1);
            assertThat(meters.get("stagefarm.worker.slots")
                            .tag("state", "free")
                            .gauge()
                            .value())
                    .isZero();
            assertThat(meters.get("stagefarm.job.wait").timer().count()).isEqualTo(1);
        } finally {
            observed.close();
        }
    }

    private static JobTicket ticket(Job job) {
        return new JobTicket(
                job.getJobId(), "team", job.getBuildId(), WorkKeys.of("team", job), Instant.EPOCH, 1, w -> 0);
    }

    private static final class RecordingStream implements StreamObserver<CoordinatorMessage> {
        final BlockingQueue<Job> sent = new LinkedBlockingQueue<>();

        Job next() throws InterruptedException {
            Job job = sent.poll(5, TimeUnit.SECONDS);
            assertThat(job).as("a job sent").isNotNull();
            return job;
        }

        @Override
        public void onNext(CoordinatorMessage value) {
            sent.add(value.getJob());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
    }
}
