package dev.stagefarm.coordinator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.cache.StepResult;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.RunningJob;
import dev.stagefarm.proto.farm.Step;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A restarted coordinator (issue 12): a resubmitted build's jobs wait for the reconnection window
 * and join the runs their reconnecting workers report, instead of running them a second time.
 * The dispatcher runs on a clock the test moves, as CoordinatorService drives it.
 */
class CoordinatorRestartTest {

    private volatile Instant now = Instant.parse("2026-12-04T00:00:00Z");
    private final WorkerPool pool = new WorkerPool();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final JobDispatcher dispatcher =
            new JobDispatcher(pool, Duration.ZERO, new SchedulerMetrics(meters), () -> now, new Scheduler(() -> now));

    @AfterEach
    void close() {
        dispatcher.close();
    }

    /** The stage as the first coordinator sent it, before it went away. */
    private static final Job BEFORE = Job.newBuilder()
            .setJobId("old-1")
            .setBuildId("old")
            .setTeam("team")
            .setStageName("build")
            .setStageKey("k")
            .addSteps(Step.newBuilder().setKey("s1"))
            .addSteps(Step.newBuilder().setKey("s2"))
            .build();

    /** The same stage planned again for the resubmission: its first step is in the cache by now. */
    private static final Job AGAIN = BEFORE.toBuilder()
            .setJobId("new-1")
            .setBuildId("new")
            .setSteps(0, Step.newBuilder().setKey("s1").setIsCached(true).setCached(StepResult.newBuilder()))
            .build();

    private static RunningJob reported(Job job) {
        return RunningJob.newBuilder()
                .setJobId(job.getJobId())
                .setTeam(job.getTeam())
                .setStageName(job.getStageName())
                .setWorkKey(WorkKeys.adoption(job.getTeam(), job))
                .build();
    }

    private static JobTicket ticket(Job job) {
        return new JobTicket(
                job.getJobId(), "team", job.getBuildId(), WorkKeys.of("team", job), Instant.EPOCH, 1, w -> 0);
    }

    private WorkerSession reconnect(String name, RecordingStream stream, RunningJob... running) {
        return pool.join(name, 1, stream, Set.of(), List.of(), List.of(running));
    }

    private static JobResult ok(String wireId) {
        return JobResult.newBuilder()
                .setJobId(wireId)
                .setOk(true)
                .setStageKey("k")
                .build();
    }

    @Test
    void aResubmittedJobWaitsForItsWorkerAndJoinsTheRunItReports() throws Exception {
        List<JobEvent> events = new CopyOnWriteArrayList<>();
        RecordingStream toOther = new RecordingStream();
        pool.join("w2", 1, toOther); // a worker with a free slot is there already
        now = now.plusSeconds(2);
        CompletableFuture<JobDispatcher.Dispatched> result = dispatcher.submit(AGAIN, ticket(AGAIN), true, events::add);

        assertThat(toOther.sent.poll(200, TimeUnit.MILLISECONDS))
                .as("held, not sent to the free worker, within the window")
                .isNull();

        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = reconnect("w1", toW1, reported(BEFORE));
        assertThat(w1.load()).as("the reported run holds its slot").isEqualTo(1);
        dispatcher.onEvent(w1, JobEvent.newBuilder().setJobId("old-1").build());
        dispatcher.onResult(w1, ok("old-1"));

        JobDispatcher.Dispatched done = result.get(5, TimeUnit.SECONDS);
        assertThat(done.worker()).isEqualTo("w1");
        assertThat(done.result().getJobId()).isEqualTo("new-1");
        assertThat(events.stream().filter(e -> !e.hasQueue()))
                .as("the run's progress")
                .hasSize(1);
        assertThat(toW1.sent).as("nothing sent to run again").isEmpty();
        assertThat(toOther.sent).isEmpty();
    }

    @Test
    void aHeldJobWhoseWorkerNeverComesBackRunsWhenTheWindowEnds() throws Exception {
        RecordingStream toW2 = new RecordingStream();
        pool.join("w2", 1, toW2);
        CompletableFuture<JobDispatcher.Dispatched> result = dispatcher.submit(AGAIN, ticket(AGAIN), true, e -> {});

        now = now.plus(Reconnects.WINDOW).minusMillis(1);
        dispatcher.releaseHeld();
        assertThat(toW2.sent.poll(100, TimeUnit.MILLISECONDS))
                .as("still within the window")
                .isNull();
        assertThat(queued("team"))
                .as("a held job waits for a slot as a queued one does: an autoscaler must see it")
                .isEqualTo(1.0);

        now = now.plusMillis(2);
        dispatcher.releaseHeld();
        Job sent = toW2.next();
        assertThat(sent.getJobId()).isEqualTo("new-1");
        assertThat(sent.getWorkKey())
                .as("the key the worker reports should this coordinator go too")
                .isEqualTo(WorkKeys.adoption("team", AGAIN));
        assertThat(queued("team")).as("running now, not waiting").isZero();
        dispatcher.onResult(pool.named("w2").orElseThrow(), ok("new-1"));
        assertThat(result.get(5, TimeUnit.SECONDS).result().getOk()).isTrue();
    }

    private double queued(String team) {
        return meters.get("stagefarm.jobs.queued").tag("team", team).gauge().value();
    }

    @Test
    void aFirstSubmissionIsNeverHeldNorIsAResubmissionAfterTheWindow() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = pool.join("w1", 1, toW1);
        dispatcher.submit(BEFORE, ticket(BEFORE), false, e -> {});
        assertThat(toW1.next().getJobId()).as("a fresh build's job, at once").isEqualTo("old-1");
        dispatcher.onResult(w1, ok("old-1"));

        now = now.plus(Reconnects.WINDOW);
        dispatcher.submit(AGAIN, ticket(AGAIN), true, e -> {});
        assertThat(toW1.next().getJobId()).as("the window is over").isEqualTo("new-1");
    }

    @Test
    void aResubmissionComingAfterItsWorkerReconnectedJoinsTheRunStill() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = reconnect("w1", toW1, reported(BEFORE));
        RecordingStream toW2 = new RecordingStream();
        pool.join("w2", 1, toW2);

        CompletableFuture<JobDispatcher.Dispatched> result = dispatcher.submit(AGAIN, ticket(AGAIN), true, e -> {});
        dispatcher.onResult(w1, ok("old-1"));

        assertThat(result.get(5, TimeUnit.SECONDS).worker()).isEqualTo("w1");
        assertThat(toW2.sent).as("not run on the free worker").isEmpty();
    }

    @Test
    void aReportedRunThatEndedBeforeItsResubmissionCameGivesItItsResult() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = reconnect(
                "w1", toW1, reported(BEFORE).toBuilder().setFinished(true).build());
        dispatcher.onResult(w1, ok("old-1"));
        assertThat(w1.load()).isZero();

        CompletableFuture<JobDispatcher.Dispatched> result = dispatcher.submit(AGAIN, ticket(AGAIN), true, e -> {});
        assertThat(result.get(5, TimeUnit.SECONDS).result().getJobId()).isEqualTo("new-1");
        assertThat(toW1.sent).isEmpty();

        now = now.plus(Reconnects.WINDOW).plusSeconds(1);
        Job later = AGAIN.toBuilder().setJobId("later-1").build();
        dispatcher.submit(later, ticket(later), false, e -> {});
        assertThat(toW1.next().getJobId())
                .as("kept for the window only, and for one job")
                .isEqualTo("later-1");
    }

    @Test
    void anAdoptedRunLostWithItsWorkerRunsAgainForTheJobsThatJoinedIt() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = reconnect("w1", toW1, reported(BEFORE));
        CompletableFuture<JobDispatcher.Dispatched> result = dispatcher.submit(AGAIN, ticket(AGAIN), true, e -> {});

        RecordingStream toW2 = new RecordingStream();
        WorkerSession w2 = pool.join("w2", 1, toW2);
        pool.leave(w1);
        dispatcher.onWorkerLost(w1);

        Job again = toW2.next();
        assertThat(again.getJobId()).as("under the run's id").isEqualTo("old-1");
        assertThat(again.getStepsList()).isEqualTo(AGAIN.getStepsList());
        dispatcher.onResult(w2, ok("old-1"));
        assertThat(result.get(5, TimeUnit.SECONDS).worker()).isEqualTo("w2");
    }

    @Test
    void aReportedRunNobodyWantsFreesItsSlotWhenItEnds() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = reconnect("w1", toW1, reported(BEFORE));
        Job other = Job.newBuilder()
                .setJobId("x-1")
                .setBuildId("x")
                .setTeam("team")
                .setStageKey("other")
                .build();
        dispatcher.submit(other, ticket(other), false, e -> {});
        assertThat(toW1.sent.poll(200, TimeUnit.MILLISECONDS))
                .as("its one slot is taken")
                .isNull();

        dispatcher.onResult(w1, ok("old-1"));
        assertThat(toW1.next().getJobId()).isEqualTo("x-1");
    }

    @Test
    void aRunTheWorkerKeptWhileItsJobWentElsewhereIsStopped() throws Exception {
        // a worker cut off long enough to be declared dead: its job ran again elsewhere
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = pool.join("w1", 1, toW1);
        RecordingStream toW2 = new RecordingStream();
        dispatcher.submit(BEFORE, ticket(BEFORE), false, e -> {});
        assertThat(toW1.next().getJobId()).isEqualTo("old-1");
        pool.join("w2", 1, toW2);
        pool.leave(w1);
        dispatcher.onWorkerLost(w1);
        assertThat(toW2.next().getJobId()).isEqualTo("old-1");

        RecordingStream again = new RecordingStream();
        reconnect("w1", again, reported(BEFORE));
        assertThat(again.cancelled.poll(5, TimeUnit.SECONDS)).isEqualTo("old-1");
    }

    @Test
    void anotherTeamsResubmissionOfTheSameStageNeverJoinsAReportedRun() throws Exception {
        // a build author of team b who writes team a's Dockerfile and claims a resubmission
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = reconnect("w1", toW1, reported(BEFORE));
        Job theirs =
                AGAIN.toBuilder().setJobId("b-1").setBuildId("b").setTeam("b").build();
        JobTicket ticket = new JobTicket("b-1", "b", "b", WorkKeys.of("b", theirs), Instant.EPOCH, 1, w -> 0);
        CompletableFuture<JobDispatcher.Dispatched> result = dispatcher.submit(theirs, ticket, true, e -> {});

        dispatcher.onResult(w1, ok("old-1"));
        assertThat(result).as("team a's result is not team b's").isNotDone();
        now = now.plus(Reconnects.WINDOW);
        dispatcher.releaseHeld();
        assertThat(toW1.next().getJobId())
                .as("it runs on its own, after the window")
                .isEqualTo("b-1");
    }

    private static final class RecordingStream implements StreamObserver<CoordinatorMessage> {
        final BlockingQueue<Job> sent = new LinkedBlockingQueue<>();
        final BlockingQueue<String> cancelled = new LinkedBlockingQueue<>();

        Job next() throws InterruptedException {
            Job job = sent.poll(5, TimeUnit.SECONDS);
            assertThat(job).as("a job sent").isNotNull();
            return job;
        }

        @Override
        public void onNext(CoordinatorMessage value) {
            if (value.hasJob()) {
                sent.add(value.getJob());
            } else if (value.hasCancel()) {
                cancelled.add(value.getCancel().getJobId());
            }
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
    }
}
