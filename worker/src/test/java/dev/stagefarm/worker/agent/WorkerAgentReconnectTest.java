package dev.stagefarm.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.ResultReceived;
import dev.stagefarm.proto.farm.RunningJob;
import dev.stagefarm.proto.farm.WorkerMessage;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
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

        Coordinator(Job toSend) {
            this(toSend, true);
        }

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

    @Test
    void aJobOutlivesItsCoordinatorAndTheNextOneAdoptsItAndGetsItsResult() throws Exception {
        String name = "coordinator-" + UUID.randomUUID();
        Job job = Job.newBuilder()
                .setJobId("b-1")
                .setTeam("team")
                .setStageName("build")
                .setWorkKey("adopt:team/k")
                .build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        Coordinator first = new Coordinator(job);
        Server server =
                InProcessServerBuilder.forName(name).addService(first).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        WorkerAgent agent = new WorkerAgent("w1", 1, channel, (j, events) -> {
            started.countDown();
            try {
                finish.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return JobResult.newBuilder().setJobId(j.getJobId()).setOk(true).build();
        });
        Server second = null;
        try {
            agent.start();
            assertThat(first.next(WorkerMessage.KindCase.HELLO).getHello().getRunningList())
                    .isEmpty();
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();

            server.shutdownNow().awaitTermination(); // the coordinator is killed mid-job
            finish.countDown(); // the job ends while no coordinator listens
            Thread.sleep(500);

            Coordinator restarted = new Coordinator(null);
            second = InProcessServerBuilder.forName(name)
                    .addService(restarted)
                    .build()
                    .start();
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
        } finally {
            agent.close();
            channel.shutdownNow();
            server.shutdownNow();
            if (second != null) {
                second.shutdownNow();
            }
        }
    }

    /**
     * A result can go into a stream whose coordinator is already gone (gRPC tells the worker of
     * the break later): until a coordinator confirms it, the worker reports it again.
     */
    @Test
    void aResultTheCoordinatorNeverConfirmedIsReportedAgainAfterReconnecting() throws Exception {
        String name = "coordinator-" + UUID.randomUUID();
        Job job = Job.newBuilder()
                .setJobId("b-2")
                .setTeam("team")
                .setStageName("build")
                .setWorkKey("lost:team/k")
                .build();
        Coordinator first = new Coordinator(job, false);
        Server server =
                InProcessServerBuilder.forName(name).addService(first).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        WorkerAgent agent = new WorkerAgent(
                "w1",
                1,
                channel,
                (j, events) -> JobResult.newBuilder()
                        .setJobId(j.getJobId())
                        .setOk(true)
                        .build());
        Server second = null;
        try {
            agent.start();
            // the result reached the stream, but this coordinator dies before confirming it
            assertThat(first.next(WorkerMessage.KindCase.RESULT).getResult().getJobId())
                    .isEqualTo("b-2");
            server.shutdownNow().awaitTermination();

            Coordinator restarted = new Coordinator(null);
            second = InProcessServerBuilder.forName(name)
                    .addService(restarted)
                    .build()
                    .start();
            var hello = restarted.next(WorkerMessage.KindCase.HELLO).getHello();
            assertThat(hello.getRunningList())
                    .extracting(RunningJob::getJobId, RunningJob::getFinished)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("b-2", true));
            assertThat(restarted.next(WorkerMessage.KindCase.RESULT).getResult().getJobId())
                    .isEqualTo("b-2");
        } finally {
            agent.close();
            channel.shutdownNow();
            server.shutdownNow();
            if (second != null) {
                second.shutdownNow();
            }
        }
    }

    /** A confirmed result is forgotten: the next coordinator does not hear of the job again. */
    @Test
    void aConfirmedResultIsNotReportedAgain() throws Exception {
        String name = "coordinator-" + UUID.randomUUID();
        Job job = Job.newBuilder()
                .setJobId("b-3")
                .setTeam("team")
                .setStageName("build")
                .setWorkKey("done:team/k")
                .build();
        Coordinator first = new Coordinator(job);
        Server server =
                InProcessServerBuilder.forName(name).addService(first).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        WorkerAgent agent = new WorkerAgent(
                "w1",
                1,
                channel,
                (j, events) -> JobResult.newBuilder()
                        .setJobId(j.getJobId())
                        .setOk(true)
                        .build());
        Server second = null;
        try {
            agent.start();
            assertThat(first.next(WorkerMessage.KindCase.RESULT).getResult().getJobId())
                    .isEqualTo("b-3");
            // the confirmation is in flight; wait until the worker no longer counts the job
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (agent.unconfirmedResults() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(agent.unconfirmedResults()).isZero();
            server.shutdownNow().awaitTermination();

            Coordinator restarted = new Coordinator(null);
            second = InProcessServerBuilder.forName(name)
                    .addService(restarted)
                    .build()
                    .start();
            assertThat(restarted.next(WorkerMessage.KindCase.HELLO).getHello().getRunningList())
                    .isEmpty();
        } finally {
            agent.close();
            channel.shutdownNow();
            server.shutdownNow();
            if (second != null) {
                second.shutdownNow();
            }
        }
    }
}
