package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.coordinator.builds.BuildBook;
import dev.stagefarm.coordinator.builds.BuildControl;
import dev.stagefarm.coordinator.schedule.JobDispatcher;
import dev.stagefarm.coordinator.schedule.SchedulerMetrics;
import dev.stagefarm.coordinator.schedule.StageTimings;
import dev.stagefarm.coordinator.schedule.WorkerPool;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.StepEvent;
import dev.stagefarm.proto.farm.WorkerInfo;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Scheduling through the coordinator's real gRPC service: workers connect over the Connect
 * stream as real ones do, and jobs are submitted to the dispatcher as a build's stages are.
 */
class SchedulingTest {

    private static final ToLongFunction<String> NO_LOCALITY = w -> 0;

    private WorkerPool pool;
    private SimpleMeterRegistry meters;
    private JobDispatcher dispatcher;
    private Server server;
    private ManagedChannel channel;
    private ManagedChannel cacheChannel;

    private void startCoordinator(Duration workerWait) throws IOException {
        String name = InProcessServerBuilder.generateName();
        pool = new WorkerPool();
        meters = new SimpleMeterRegistry();
        FarmMetrics metrics = new FarmMetrics(meters, pool);
        dispatcher = new JobDispatcher(pool, workerWait, new SchedulerMetrics(meters));
        // Connect never touches the cache; Build (not exercised here) would
        cacheChannel = InProcessChannelBuilder.forName(name + "-cache").build();
        var book = new BuildBook(InstantSource.system());
        BuildRunner builds = new BuildRunner(
                new CacheClient(cacheChannel),
                team -> image -> {
                    throw new AssertionError("no build runs in this test");
                },
                dispatcher,
                new StageTimings(InstantSource.system()),
                metrics,
                book);
        server = InProcessServerBuilder.forName(name)
                .addService(new CoordinatorService(
                        pool,
                        dispatcher,
                        builds,
                        "cache:9092",
                        BuildAdmission.unlimited(),
                        new BuildControl(book),
                        metrics.clientPendingBytes))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            cacheChannel.shutdownNow();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            dispatcher.close();
        }
    }

    @Test
    void twoJobsSubmittedTogetherGoToTwoIdleWorkers() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        FakeWorker w2 = worker("w2");

        var a = dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        var b = dispatcher.submit(job("b1-1"), NO_LOCALITY, e -> {});

        Job onW1 = w1.nextJob();
        Job onW2 = w2.nextJob();
        assertThat(Set.of(onW1.getJobId(), onW2.getJobId())).containsExactlyInAnyOrder("b1-0", "b1-1");
        w1.assertNoJobWithin(Duration.ofMillis(200));
        assertThat(listWorkers()).extracting(WorkerInfo::getRunningJobs).containsExactly(1, 1);

        w1.finish(onW1, "k1");
        w2.finish(onW2, "k2");
        assertThat(List.of(
                        a.get(10, TimeUnit.SECONDS).worker(),
                        b.get(10, TimeUnit.SECONDS).worker()))
                .containsExactlyInAnyOrder("w1", "w2");
    }

    @Test
    void aWorkersWarningsAreListedWithIt() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        String warning = "runc 1.1.5 lacks the fix for CVE-2025-31133";
        FakeWorker.connect("old-runc", channel, List.of(warning));
        awaitWorkersIncluding("old-runc");
        worker("new-runc");

        assertThat(listWorkers())
                .filteredOn(w -> w.getName().equals("old-runc"))
                .singleElement()
                .extracting(WorkerInfo::getWarningsList)
                .isEqualTo(List.of(warning));
        assertThat(listWorkers())
                .filteredOn(w -> w.getName().equals("new-runc"))
                .singleElement()
                .extracting(WorkerInfo::getWarningsList)
                .isEqualTo(List.of());
    }

    @Test
    void aWorkerHoldingTheInputsGetsTheJobEvenWhenBusierWhileItHasAFreeSlot() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        FakeWorker w2 = worker("w2", 2);
        dispatcher.submit(job("b1-0"), w -> w.equals("w2") ? 1 : 0, e -> {});
        assertThat(w2.nextJob().getJobId()).isEqualTo("b1-0");

        dispatcher.submit(job("b1-1"), w -> w.equals("w2") ? 50_000_000 : 0, e -> {});

        assertThat(w2.nextJob().getJobId()).isEqualTo("b1-1");
        w1.assertNoJobWithin(Duration.ofMillis(200));
    }

    @Test
    void aWorkerWithoutAFreeSlotGetsNoBacklog() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        var second = dispatcher.submit(job("b1-1"), NO_LOCALITY, e -> {});
        Job first = w1.nextJob();

        w1.assertNoJobWithin(Duration.ofMillis(300));
        assertThat(listWorkers()).extracting(WorkerInfo::getRunningJobs).containsExactly(1);

        // a second worker helps at once: the queued job goes to its free slot
        FakeWorker w2 = worker("w2");
        Job onW2 = w2.nextJob();
        assertThat(onW2.getJobId()).isEqualTo("b1-1");
        w2.finish(onW2, "k");
        assertThat(second.get(10, TimeUnit.SECONDS).worker()).isEqualTo("w2");
        w1.finish(first, "k");
    }

    @Test
    void theHolderOfTheInputsBeingFullTheJobTakesAnotherFreeSlot() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        FakeWorker w2 = worker("w2");
        dispatcher.submit(job("b1-0"), w -> w.equals("w2") ? 1 : 0, e -> {});
        assertThat(w2.nextJob().getJobId()).isEqualTo("b1-0");

        dispatcher.submit(job("b1-1"), w -> w.equals("w2") ? 50_000_000 : 0, e -> {});

        assertThat(w1.nextJob().getJobId()).isEqualTo("b1-1");
    }

    @Test
    void withoutLocalityTheLeastLoadedWorkerGetsTheJob() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        FakeWorker w2 = worker("w2");
        dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        Job first = w1.nextJob();
        w1.finish(first, "k");
        awaitLoad("w1", 0);

        dispatcher.submit(job("b1-1"), NO_LOCALITY, e -> {});
        dispatcher.submit(job("b1-2"), NO_LOCALITY, e -> {});
        assertThat(w1.nextJob().getJobId()).isEqualTo("b1-1");
        assertThat(w2.nextJob().getJobId()).isEqualTo("b1-2");
    }

    @Test
    void progressFromTheWorkerReachesTheBuild() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        List<JobEvent> events = new CopyOnWriteArrayList<>();
        var result = dispatcher.submit(job("b1-0"), NO_LOCALITY, events::add);
        Job job = w1.nextJob();

        w1.report(JobEvent.newBuilder()
                .setJobId(job.getJobId())
                .setStep(StepEvent.newBuilder()
                        .setDescription("[builder 2/6] WORKDIR /app")
                        .setStatus(StepEvent.Status.DONE))
                .build());
        w1.finish(job, "k");

        assertThat(result.get(10, TimeUnit.SECONDS).result().getOk()).isTrue();
        assertThat(events.stream().filter(JobEvent::hasStep))
                .extracting(e -> e.getStep().getDescription())
                .containsExactly("[builder 2/6] WORKDIR /app");
        // before it, the dispatcher's own word: queued, then taken by w1
        assertThat(events.stream().filter(JobEvent::hasQueue))
                .extracting(e -> e.getQueue().getWorker())
                .containsExactly("", "w1");
    }

    @Test
    void aJobWhoseWorkerDiesRunsOnAnotherWorker() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        FakeWorker w2 = worker("w2");
        CompletableFuture<JobDispatcher.Dispatched> result = dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        assertThat(w1.nextJob().getJobId()).isEqualTo("b1-0");

        w1.die();

        Job again = w2.nextJob();
        assertThat(again.getJobId()).isEqualTo("b1-0");
        assertThat(result).isNotDone();
        w2.finish(again, "from-w2");
        JobDispatcher.Dispatched done = result.get(10, TimeUnit.SECONDS);
        assertThat(done.worker()).isEqualTo("w2");
        assertThat(done.result().getStageKey()).isEqualTo("from-w2");
        assertThat(listWorkers()).extracting(WorkerInfo::getName).containsExactly("w2");
        assertThat(meters.counter("stagefarm.jobs.redispatched").count()).isEqualTo(1);
    }

    @Test
    void aLateResultFromAReconnectedWorkerIsIgnored() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1");
        FakeWorker w2 = worker("w2");
        var result = dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        Job job = w1.nextJob();

        // w1's connection drops; it comes back under its name while its old session is torn down
        FakeWorker w1Again = FakeWorker.connect("w1", channel);
        awaitWorkers("w1", "w2");
        w1.die();
        Job again = w2.nextJob();

        w1Again.finish(job, "from-w1");
        w1Again.assertNoJobWithin(Duration.ofMillis(300));
        assertThat(result).as("the answer of the worker the job was taken from").isNotDone();

        w2.finish(again, "from-w2");
        assertThat(result.get(10, TimeUnit.SECONDS).result().getStageKey()).isEqualTo("from-w2");
    }

    @Test
    void withoutAnyWorkerTheJobFailsTellingTheUserToStartOne() throws Exception {
        startCoordinator(Duration.ofSeconds(1));
        long start = System.nanoTime();

        var done = dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {}).get(10, TimeUnit.SECONDS);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        assertThat(done.result().getOk()).isFalse();
        assertThat(done.result().getError())
                .isEqualTo(
                        "no worker connected within 1 s: start one with `stagefarm worker --coordinator HOST:PORT ...`");
    }

    @Test
    void aWorkerThatConnectsWhileAJobWaitsGetsIt() throws Exception {
        startCoordinator(Duration.ofSeconds(10));
        var result = dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        // no worker: the job waits (and keeps waiting) instead of failing
        await("the job still waiting")
                .during(Duration.ofMillis(200))
                .atMost(Duration.ofSeconds(2))
                .until(() -> !result.isDone());

        FakeWorker w1 = worker("w1");
        Job job = w1.nextJob();
        w1.finish(job, "k");
        assertThat(result.get(10, TimeUnit.SECONDS).worker()).isEqualTo("w1");
    }

    @Test
    void whenEveryWorkerThatTookAStageDiesTheBuildSaysSo() throws Exception {
        startCoordinator(Duration.ofSeconds(1));
        FakeWorker w1 = worker("w1");
        var result = dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        w1.nextJob();

        w1.die();

        var done = result.get(10, TimeUnit.SECONDS);
        assertThat(done.result().getOk()).isFalse();
        assertThat(done.result().getError()).isEqualTo("every worker that took stage builder went away: [w1]");
    }

    @Test
    void aDrainingWorkerIsListedSoAndGetsNoNewJob() throws Exception {
        startCoordinator(Duration.ofSeconds(5));
        FakeWorker w1 = worker("w1", 2);
        var first = dispatcher.submit(job("b1-0"), NO_LOCALITY, e -> {});
        Job running = w1.nextJob();

        w1.drain();
        awaitUntil(() -> listWorkers().getFirst().getDraining(), "w1 draining");
        dispatcher.submit(job("b1-1"), NO_LOCALITY, e -> {});

        w1.assertNoJobWithin(Duration.ofMillis(300));
        w1.finish(running, "k");
        assertThat(first.get(10, TimeUnit.SECONDS).result().getOk())
                .as("its running job still reports")
                .isTrue();
        FakeWorker w2 = worker("w2");
        assertThat(w2.nextJob().getJobId()).isEqualTo("b1-1");
    }

    // ---- helpers ----

    private FakeWorker worker(String name) throws InterruptedException {
        return worker(name, 1);
    }

    private FakeWorker worker(String name, int slots) throws InterruptedException {
        FakeWorker w = FakeWorker.connect(name, slots, channel);
        awaitWorkersIncluding(name);
        return w;
    }

    private static Job job(String id) {
        return Job.newBuilder()
                .setJobId(id)
                .setBuildId(id.substring(0, id.indexOf('-')))
                .setStageName("builder")
                .build();
    }

    private List<WorkerInfo> listWorkers() {
        return CoordinatorGrpc.newBlockingStub(channel)
                .listWorkers(ListWorkersRequest.getDefaultInstance())
                .getWorkersList();
    }

    private void awaitWorkersIncluding(String name) throws InterruptedException {
        awaitUntil(() -> listWorkers().stream().anyMatch(w -> w.getName().equals(name)), name + " connected");
    }

    private void awaitWorkers(String... names) throws InterruptedException {
        awaitUntil(
                () -> listWorkers().stream().map(WorkerInfo::getName).toList().equals(List.of(names)),
                "workers " + List.of(names));
    }

    private void awaitLoad(String name, int load) throws InterruptedException {
        awaitUntil(
                () -> listWorkers().stream().anyMatch(w -> w.getName().equals(name) && w.getRunningJobs() == load),
                name + " running " + load + " jobs");
    }

    private static void awaitUntil(Callable<Boolean> condition, String what) {
        await(what)
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(10))
                .until(condition);
    }
}
