package dev.stagefarm.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.PendingStore;
import dev.stagefarm.proto.farm.ResultReceived;
import dev.stagefarm.proto.farm.RunningJob;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.WorkerMessage;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A worker whose coordinator goes away mid-job (issue 12): the job goes on, and the restarted
 * coordinator hears of it in the worker's next hello, then gets its result.
 */
class WorkerAgentReconnectTest {

    /**
     * A coordinator that records what workers send and can hand out one job; it confirms the
     * results it receives only when told to, as one killed before it could would not.
     */
    private static final class Coordinator extends CoordinatorGrpc.CoordinatorImplBase {
        final BlockingQueue<WorkerMessage> received = new LinkedBlockingQueue<>();
        final Job toSend;
        final boolean confirms;

        Coordinator(Job toSend, boolean confirms) {
            this.toSend = toSend;
            this.confirms = confirms;
        }

        @Override
        public StreamObserver<WorkerMessage> connect(StreamObserver<CoordinatorMessage> responses) {
            return new StreamObserver<>() {
                @Override
                public void onNext(WorkerMessage m) {
                    received.add(m);
                    if (m.hasHello() && toSend != null) {
                        responses.onNext(
                                CoordinatorMessage.newBuilder().setJob(toSend).build());
                    }
                    if (m.hasResult() && confirms) {
                        responses.onNext(CoordinatorMessage.newBuilder()
                                .setReceived(ResultReceived.newBuilder()
                                        .setJobId(m.getResult().getJobId()))
                                .build());
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onCompleted();
                }
            };
        }

        WorkerMessage next(WorkerMessage.KindCase kind) throws InterruptedException {
            while (true) {
                WorkerMessage m = received.poll(20, TimeUnit.SECONDS);
                assertThat(m).as("a %s from the worker", kind).isNotNull();
                if (m.getKindCase() == kind) {
                    return m;
                }
            }
        }
    }

    /**
     * One worker agent and the coordinator it talks to, which a test can kill and start again
     * under the same in-process name, as a restarted coordinator keeps its address.
     */
    private static final class Farm implements AutoCloseable {
        private final String name = "coordinator-" + UUID.randomUUID();
        private final ManagedChannel channel =
                InProcessChannelBuilder.forName(name).build();
        private final List<Server> servers = new ArrayList<>();
        final WorkerAgent agent;

        Farm(WorkerAgent.JobHandler handler) {
            this.agent = new WorkerAgent("w1", 1, channel, handler);
        }

        /** The first coordinator, which sends the worker {@code job} once it says hello. */
        Coordinator startCoordinator(Job job, boolean confirms) throws IOException {
            return start(new Coordinator(job, confirms));
        }

        /** Kills the coordinator running now, as a crash would: no goodbye on the stream. */
        void killCoordinator() throws InterruptedException {
            servers.getLast().shutdownNow().awaitTermination();
        }

        /** A coordinator started after the first was killed: it has no job to send. */
        Coordinator restartCoordinator() throws IOException {
            return start(new Coordinator(null, true));
        }

        private Coordinator start(Coordinator coordinator) throws IOException {
            servers.add(InProcessServerBuilder.forName(name)
                    .addService(coordinator)
                    .build()
                    .start());
            return coordinator;
        }

        @Override
        public void close() throws InterruptedException {
            agent.close();
            channel.shutdownNow();
            servers.forEach(Server::shutdownNow);
        }
    }

    private static Job job(String id, String workKey) {
        return Job.newBuilder()
                .setJobId(id)
                .setTeam("team")
                .setStageName("build")
                .setWorkKey(workKey)
                .build();
    }

    private static JobResult succeeded(Job job) {
        return JobResult.newBuilder().setJobId(job.getJobId()).setOk(true).build();
    }

    /** A job that reports its result at once with its last layer pending, and stores it once {@code finish} opens. */
    private static WorkerAgent.JobHandler reportsEarlyThenStoresUntil(CountDownLatch finish) {
        return (j, events, early) -> {
            early.accept(succeeded(j).toBuilder().setLayersPending(true).build());
            try {
                finish.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return succeeded(j);
        };
    }

    @Test
    void aJobOutlivesItsCoordinatorAndTheNextOneAdoptsItAndGetsItsResult() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        try (Farm farm = new Farm((j, events, early) -> {
            started.countDown();
            try {
                finish.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return succeeded(j);
        })) {
            Coordinator first = farm.startCoordinator(job("b-1", "adopt:team/k"), true);
            farm.agent.start();
            assertThat(first.next(WorkerMessage.KindCase.HELLO).getHello().getRunningList())
                    .isEmpty();
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();

            farm.killCoordinator(); // mid-job
            finish.countDown(); // the job ends while no coordinator listens
            await().atMost(Duration.ofSeconds(20)).until(() -> farm.agent.unconfirmedResults() == 1);

            Coordinator restarted = farm.restartCoordinator();
            var hello = restarted.next(WorkerMessage.KindCase.HELLO).getHello();
            assertThat(hello.getRunningList())
                    .containsExactly(RunningJob.newBuilder()
                            .setJobId("b-1")
                            .setTeam("team")
                            .setStageName("build")
                            .setWorkKey("adopt:team/k")
                            .setFinished(true)
                            .build());
            JobResult result = restarted.next(WorkerMessage.KindCase.RESULT).getResult();
            assertThat(result.getJobId()).isEqualTo("b-1");
            assertThat(result.getOk()).isTrue();
        }
    }

    /**
     * A result can go into a stream whose coordinator is already gone (gRPC tells the worker of
     * the break later): until a coordinator confirms it, the worker reports it again.
     */
    @Test
    void aResultTheCoordinatorNeverConfirmedIsReportedAgainAfterReconnecting() throws Exception {
        try (Farm farm = new Farm((j, events, early) -> succeeded(j))) {
            Coordinator first = farm.startCoordinator(job("b-2", "lost:team/k"), false);
            farm.agent.start();
            // the result reached the stream, but this coordinator dies before confirming it
            assertThat(first.next(WorkerMessage.KindCase.RESULT).getResult().getJobId())
                    .isEqualTo("b-2");
            farm.killCoordinator();

            Coordinator restarted = farm.restartCoordinator();
            var hello = restarted.next(WorkerMessage.KindCase.HELLO).getHello();
            assertThat(hello.getRunningList())
                    .extracting(RunningJob::getJobId, RunningJob::getFinished)
                    .containsExactly(tuple("b-2", true));
            assertThat(restarted.next(WorkerMessage.KindCase.RESULT).getResult().getJobId())
                    .isEqualTo("b-2");
        }
    }

    /**
     * A job whose result goes out before its last layer is stored: the coordinator hears the
     * result at once, then that the layer is stored; a drain waits for the store to end.
     */
    @Test
    void aResultReportedEarlyIsFollowedByItsStoreWhichADrainWaitsFor() throws Exception {
        CountDownLatch finish = new CountDownLatch(1);
        try (Farm farm = new Farm(reportsEarlyThenStoresUntil(finish))) {
            Coordinator first = farm.startCoordinator(job("b-4", "early:team/k"), true);
            farm.agent.start();
            JobResult result = first.next(WorkerMessage.KindCase.RESULT).getResult();
            assertThat(result.getJobId()).isEqualTo("b-4");
            assertThat(result.getLayersPending()).isTrue();

            var drained = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return farm.agent.drain(Duration.ofSeconds(20));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(300);
            assertThat(drained).as("a drain waits for the store").isNotDone();
            finish.countDown();

            var stored = first.next(WorkerMessage.KindCase.LAYERS_STORED).getLayersStored();
            assertThat(stored.getJobId()).isEqualTo("b-4");
            assertThat(stored.getOk()).isTrue();
            assertThat(drained.get(20, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * A job that reported early and still stores its last layer when its coordinator goes away:
     * the next coordinator hears of the store in the hello, then that it ended.
     */
    @Test
    void aStoreStillUnderWayIsInTheNextHelloAndItsEndFollows() throws Exception {
        CountDownLatch finish = new CountDownLatch(1);
        try (Farm farm = new Farm(reportsEarlyThenStoresUntil(finish))) {
            Job job = job("b-5", "early:team/k").toBuilder()
                    .addSteps(Step.newBuilder().setKey("first"))
                    .addSteps(Step.newBuilder().setKey("last"))
                    .build();
            Coordinator first = farm.startCoordinator(job, true);
            farm.agent.start();
            assertThat(first.next(WorkerMessage.KindCase.RESULT).getResult().getLayersPending())
                    .isTrue();
            await().atMost(Duration.ofSeconds(20)).until(() -> farm.agent.unconfirmedResults() == 0);
            farm.killCoordinator();

            Coordinator restarted = farm.restartCoordinator();
            var hello = restarted.next(WorkerMessage.KindCase.HELLO).getHello();
            assertThat(hello.getRunningList()).as("its result was confirmed").isEmpty();
            assertThat(hello.getStoringList())
                    .containsExactly(PendingStore.newBuilder()
                            .setJobId("b-5")
                            .setTeam("team")
                            .setStepKey("last")
                            .build());

            finish.countDown();
            assertThat(restarted
                            .next(WorkerMessage.KindCase.LAYERS_STORED)
                            .getLayersStored()
                            .getJobId())
                    .isEqualTo("b-5");
        }
    }

    /** A confirmed result is forgotten: the next coordinator does not hear of the job again. */
    @Test
    void aConfirmedResultIsNotReportedAgain() throws Exception {
        try (Farm farm = new Farm((j, events, early) -> succeeded(j))) {
            Coordinator first = farm.startCoordinator(job("b-3", "done:team/k"), true);
            farm.agent.start();
            assertThat(first.next(WorkerMessage.KindCase.RESULT).getResult().getJobId())
                    .isEqualTo("b-3");
            // the confirmation is in flight; wait until the worker no longer counts the job
            await().atMost(Duration.ofSeconds(20)).until(() -> farm.agent.unconfirmedResults() == 0);
            farm.killCoordinator();

            Coordinator restarted = farm.restartCoordinator();
            assertThat(restarted.next(WorkerMessage.KindCase.HELLO).getHello().getRunningList())
                    .isEmpty();
        }
    }
}
