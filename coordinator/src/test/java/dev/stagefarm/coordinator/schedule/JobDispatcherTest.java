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
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final JobDispatcher dispatcher =
            new JobDispatcher(pool, Duration.ofSeconds(5), new SchedulerMetrics(meters));

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
    void aResultThatWentOutBeforeItsStepWasStoredHoldsLookupsUntilTheWorkerSaysSoOrLeaves() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = pool.join("w1", toW1);
        for (String id : List.of("b-0", "b-1")) {
            var result = dispatcher.submit(
                    Job.newBuilder()
                            .setJobId(id)
                            .setTeam("team-a")
                            .setStageName("s")
                            .addSteps(dev.stagefarm.proto.farm.Step.newBuilder().setKey("step-of-" + id))
                            .setLayersUnneeded(true)
                            .build(),
                    w -> 0,
                    e -> {});
            assertThat(toW1.next().getJobId()).isEqualTo(id);
            dispatcher.onResult(
                    w1,
                    JobResult.newBuilder()
                            .setJobId(id)
                            .setOk(true)
                            .setLayersPending(true)
                            .build());
            assertThat(result.get(5, TimeUnit.SECONDS).result().getOk()).isTrue();
        }
        PendingStores stores = dispatcher.pendingStores();
        assertThat(stores.size()).isEqualTo(2);

        stores.stored("b-0", w1.name()); // CoordinatorService, on the worker's LayersStored
        assertThat(stores.size()).isEqualTo(1);
        pool.leave(w1);
        dispatcher.onWorkerLost(w1);
        assertThat(stores.size()).isZero();
    }

    @Test
    void aWorkerCannotReportOrFinishAJobItWasNotGiven() throws Exception {
        RecordingStream toW1 = new RecordingStream();
        WorkerSession w1 = pool.join("w1", toW1);
        WorkerSession w2 = pool.join("w2", new RecordingStream());
        List<JobEvent> events = new CopyOnWriteArrayList<>();
        var result = dispatcher.submit(
                Job.newBuilder().setJobId("b-0").setStageName("builder").build(), w -> 0, events::add);
        assertThat(toW1.next().getJobId()).isEqualTo("b-0");
        int queueEvents = events.size();

        // w2 (hostile, or confused) forges progress and a result for w1's job, and for one never sent
        dispatcher.onEvent(w2, JobEvent.newBuilder().setJobId("b-0").build());
        dispatcher.onResult(
                w2,
                JobResult.newBuilder()
                        .setJobId("b-0")
                        .setOk(true)
                        .setStageKey("forged")
                        .build());
        dispatcher.onResult(
                w2, JobResult.newBuilder().setJobId("nobody-0").setOk(false).build());

        assertThat(result).as("another worker's result ends nothing").isNotDone();
        assertThat(events).as("nor reaches the build's output").hasSize(queueEvents);
        assertThat(meters.get("stagefarm.worker.reports.refused")
                        .tag("kind", "result")
                        .counter()
                        .count())
                .isEqualTo(2);
        assertThat(meters.get("stagefarm.worker.reports.refused")
                        .tag("kind", "event")
                        .counter()
                        .count())
                .isEqualTo(1);

        dispatcher.onEvent(w1, JobEvent.newBuilder().setJobId("b-0").build());
        dispatcher.onResult(
                w1,
                JobResult.newBuilder()
                        .setJobId("b-0")
                        .setOk(true)
                        .setStageKey("k")
                        .build());
        JobDispatcher.Dispatched done = result.get(5, TimeUnit.SECONDS);
        assertThat(done.worker()).isEqualTo("w1");
        assertThat(done.result().getStageKey()).isEqualTo("k");
        assertThat(events).hasSize(queueEvents + 1);
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
        dispatcher.onEvent(w1, JobEvent.newBuilder().setJobId("b1-0").build());
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

    /** A farm scaled to zero: the dispatcher on a clock the test moves, waiting for workers as long as it takes. */
    private volatile java.time.Instant now = java.time.Instant.parse("2026-12-03T12:00:00Z");

    private JobDispatcher waitingForever(WorkerPool pool, Duration workerWait) {
        return new JobDispatcher(
                pool, workerWait, new SchedulerMetrics(new SimpleMeterRegistry()), () -> now, new Scheduler(() -> now));
    }

    private static Job job(String build, String id) {
        return Job.newBuilder()
                .setJobId(id)
                .setBuildId(build)
                .setStageName("stage-" + id)
                .build();
    }

    private static java.util.List<String> notes(java.util.List<JobEvent> events) {
        return events.stream()
                .filter(JobEvent::hasQueue)
                .map(e -> e.getQueue().getNote())
                .filter(n -> !n.isEmpty())
                .toList();
    }

    @Test
    void onAFarmWithoutWorkersEachBuildHearsWhyOnceAndWaitsUntilOneJoins() throws Exception {
        WorkerPool pool = new WorkerPool();
        JobDispatcher farm = waitingForever(pool, Duration.ZERO);
        try {
            java.util.List<JobEvent> ofB1 = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.List<JobEvent> ofB2 = new java.util.concurrent.CopyOnWriteArrayList<>();
            var first = farm.submit(job("b1", "b1-0"), w -> 0, ofB1::add);
            var second = farm.submit(job("b1", "b1-1"), w -> 0, ofB1::add);
            var other = farm.submit(job("b2", "b2-0"), w -> 0, ofB2::add);

            assertThat(notes(ofB1)).containsExactly(JobDispatcher.NO_WORKERS);
            assertThat(notes(ofB2)).containsExactly(JobDispatcher.NO_WORKERS);

            now = now.plus(Duration.ofHours(3)); // KEDA, a node to provision, an image to pull
            Thread.sleep(300); // a bounded wait's timer would have fired by now
            assertThat(java.util.List.of(first, second, other))
                    .as("jobs waiting for a first worker")
                    .noneMatch(java.util.concurrent.CompletableFuture::isDone);

            RecordingStream toW1 = new RecordingStream();
            WorkerSession w1 = pool.join("w1", 3, toW1);
            java.util.Set<String> sent = new java.util.HashSet<>();
            for (int i = 0; i < 3; i++) {
                sent.add(toW1.next().getJobId());
            }
            assertThat(sent).containsExactlyInAnyOrder("b1-0", "b1-1", "b2-0");
            for (String id : sent) {
                farm.onResult(
                        w1,
                        JobResult.newBuilder()
                                .setJobId(id)
                                .setOk(true)
                                .setStageKey("k-" + id)
                                .build());
            }
            assertThat(first.get(5, TimeUnit.SECONDS).result().getOk()).isTrue();
            assertThat(other.get(5, TimeUnit.SECONDS).worker()).isEqualTo("w1");
            assertThat(notes(ofB1)).as("said once per build").hasSize(1);
        } finally {
            farm.close();
        }
    }

    @Test
    void aFarmWhoseWorkersStartWithItDoesNotAlarmItsFirstBuild() throws Exception {
        WorkerPool pool = new WorkerPool();
        JobDispatcher embedded = waitingForever(pool, Duration.ZERO);
        embedded.sayWhenNoWorkers(false);
        try {
            java.util.List<JobEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            embedded.submit(job("b1", "b1-0"), w -> 0, events::add);

            assertThat(events).filteredOn(JobEvent::hasQueue).hasSize(1);
            assertThat(notes(events)).isEmpty();
        } finally {
            embedded.close();
        }
    }

    @Test
    void aFarmThatHadWorkersSaysSoNeitherToItsBuilds() throws Exception {
        WorkerPool pool = new WorkerPool();
        JobDispatcher farm = waitingForever(pool, Duration.ZERO);
        try {
            pool.join("w1", 1, new RecordingStream());
            java.util.List<JobEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            farm.submit(job("b1", "b1-0"), w -> 0, events::add);
            farm.submit(job("b1", "b1-1"), w -> 0, events::add); // queued behind the busy slot

            assertThat(events).filteredOn(JobEvent::hasQueue).isNotEmpty();
            assertThat(notes(events)).as("a busy farm is not an empty one").isEmpty();
        } finally {
            farm.close();
        }
    }

    @Test
    void whenTheLastWorkerGoesTheBuildsStillQueuedHearWhy() throws Exception {
        WorkerPool pool = new WorkerPool();
        JobDispatcher farm = waitingForever(pool, Duration.ZERO);
        try {
            RecordingStream toW1 = new RecordingStream();
            WorkerSession w1 = pool.join("w1", 1, toW1);
            java.util.List<JobEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            var running = farm.submit(job("b1", "b1-0"), w -> 0, events::add);
            var queued = farm.submit(job("b1", "b1-1"), w -> 0, events::add);
            toW1.next();

            pool.leave(w1);
            farm.onWorkerLost(w1);

            assertThat(notes(events)).containsExactly(JobDispatcher.NO_WORKERS);
            assertThat(running).isNotDone();
            assertThat(queued).isNotDone();

            RecordingStream toW2 = new RecordingStream();
            pool.join("w2", 2, toW2);
            assertThat(java.util.Set.of(toW2.next().getJobId(), toW2.next().getJobId()))
                    .containsExactlyInAnyOrder("b1-0", "b1-1");
        } finally {
            farm.close();
        }
    }

    @Test
    void aCancelledBuildLeavesTheQueueAtOnceWhileItWaitsForAFirstWorker() throws Exception {
        WorkerPool pool = new WorkerPool();
        JobDispatcher farm = waitingForever(pool, Duration.ZERO);
        try {
            var waiting = farm.submit(job("b1", "b1-0"), w -> 0, e -> {});

            farm.cancel("b1-0", "build cancelled by its client");

            assertThat(waiting.get(1, TimeUnit.SECONDS).result().getError()).isEqualTo("build cancelled by its client");
            assertThat(farm.read(s -> s.queued(""))).isZero();
            RecordingStream toW1 = new RecordingStream();
            pool.join("w1", 1, toW1);
            assertThat(toW1.sent.poll(200, TimeUnit.MILLISECONDS))
                    .as("a cancelled job sent")
                    .isNull();
        } finally {
            farm.close();
        }
    }

    @Test
    void aBoundedWorkerWaitStillFailsTheBuildAfterTellingIt() throws Exception {
        WorkerPool pool = new WorkerPool();
        JobDispatcher farm = waitingForever(pool, Duration.ofMillis(500));
        try {
            java.util.List<JobEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            var waiting = farm.submit(job("b1", "b1-0"), w -> 0, events::add);
            assertThat(notes(events)).containsExactly(JobDispatcher.NO_WORKERS);

            now = now.plus(Duration.ofSeconds(1));

            assertThat(waiting.get(5, TimeUnit.SECONDS).result().getError())
                    .startsWith("no worker connected within 500 ms");
        } finally {
            farm.close();
        }
    }

    private static JobTicket ticket(Job job) {
        return new JobTicket(
                job.getJobId(), "team", job.getBuildId(), WorkKeys.of("team", job), Instant.EPOCH, 1, w -> 0);
    }

    @Test
    void whatAWorkerReportsHoldingDrawsAJobWhichWaitsForItOnlyUntilItsLimit() throws Exception {
        WorkerPool farm = new WorkerPool();
        Duration limit = Duration.ofMillis(400);
        JobDispatcher waits = new JobDispatcher(
                farm,
                Duration.ofSeconds(5),
                new SchedulerMetrics(new SimpleMeterRegistry()),
                new Scheduler(
                        java.time.InstantSource.system(),
                        t -> 1.0,
                        Locality.DEFAULTS.withWait(limit, Duration.ofMillis(100))));
        try {
            RecordingStream toW1 = new RecordingStream();
            RecordingStream toW2 = new RecordingStream();
            WorkerSession w2 = farm.join("w2", toW2);
            waits.submit(Job.newBuilder().setJobId("b0-0").setTeam("a").build(), w -> 0, e -> {});
            assertThat(toW2.next().getJobId()).isEqualTo("b0-0");
            waits.onHoldings(
                    w2,
                    dev.stagefarm.proto.farm.WorkerHoldings.newBuilder()
                            .setFull(true)
                            .addAdded(dev.stagefarm.proto.farm.Holding.newBuilder()
                                    .setTeam("a")
                                    .setKey("sha256:go")
                                    .setSize(300L << 20))
                            .build());
            farm.join("w1", toW1);

            long start = System.nanoTime();
            Job next = Job.newBuilder()
                    .setJobId("b1-0")
                    .setTeam("a")
                    .setBase(dev.stagefarm.proto.farm.BaseImage.newBuilder()
                            .addLayers(dev.stagefarm.proto.cache.Layer.newBuilder()
                                    .setDigest("sha256:go")
                                    .setDiffId("sha256:go-diff")
                                    .setSize(300L << 20)))
                    .build();
            List<JobEvent> events = new CopyOnWriteArrayList<>();
            waits.submit(next.toBuilder().setStageName("builder").build(), w -> 0, events::add);
            assertThat(toW1.next().getJobId())
                    .as("sent to the free worker once its wait for w2 ended")
                    .isEqualTo("b1-0");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(limit);
            assertThat(toW2.sent).isEmpty();
            assertThat(events)
                    .extracting(e -> e.getQueue().getNote())
                    .contains("stage builder waits up to 400 ms for worker w2, which holds 300.0 MiB more of its"
                            + " inputs (--locality-wait)");
        } finally {
            waits.close();
        }
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
