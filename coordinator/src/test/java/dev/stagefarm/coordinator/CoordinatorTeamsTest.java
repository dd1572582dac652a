package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.DrainWorkerRequest;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.WorkerHello;
import dev.stagefarm.proto.farm.WorkerMessage;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator with a tokens file in front of a real cache-server with the same file: builds
 * run in their submitter's team, jobs carry it, and only farm tokens may serve as workers.
 */
class CoordinatorTeamsTest {

    private static final String ALICE = "alice-token";
    private static final String BOB = "bob-token";
    private static final String READER = "reader-token";
    private static final String FARM = "farm-token";

    @TempDir
    Path dir;

    private InProcessFarm farm;
    private Channel channel;

    @BeforeEach
    void start() throws Exception {
        Path tokens = Files.writeString(
                dir.resolve("tokens.json"),
                "{\"tokens\": ["
                        + InProcessFarm.tokenEntry("alice", "team-a", "\"read\",\"write\"", ALICE) + ","
                        + InProcessFarm.tokenEntry("bob", "team-b", "\"read\",\"write\"", BOB) + ","
                        + InProcessFarm.tokenEntry("reader", "team-a", "\"read\"", READER) + ","
                        + InProcessFarm.tokenEntry("farm", "ops", "\"read\",\"write\",\"farm\"", FARM) + "],"
                        + " \"teams\": {\"team-b\": {\"max-builds\": 2, \"weight\": 2}}}");
        farm = InProcessFarm.withTokens(dir, tokens, FARM);
        channel = farm.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        farm.close();
    }

    @Test
    void aBuildRunsInItsSubmittersTeamAndItsJobsCarryIt() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", 1, farm.channel(FARM));
        String context = farm.uploadContext(ALICE);

        CompletableFuture<String> alice = submit(ALICE, context);
        Job job = worker.nextJob();
        assertThat(job.getTeam()).isEqualTo("team-a");

        assertThat(submit(BOB, context).get(20, TimeUnit.SECONDS))
                .as("team B's build cannot read team A's context")
                .contains("could not read the build context");
        alice.cancel(true);
    }

    /**
     * Hostile: a build of team A that runs a stage's steps (and could be kept running for as long
     * as its step timeout) never makes team B's build of the same steps wait, nor hands it A's result.
     */
    @Test
    void anotherTeamsRunOfTheSameStepsNeitherHoldsUpNorServesABuild() throws Exception {
        String toolsThenCopy = "FROM scratch AS tools\nRUN make-tools\nFROM scratch\nCOPY --from=tools /t /t\n";
        String toolsThenBuildFrom = "FROM scratch AS tools\nRUN make-tools\nFROM tools\nRUN use-tools\n";
        FakeWorker worker = FakeWorker.connect("w1", 2, farm.channel(FARM));
        CompletableFuture<String> alice =
                farm.submit(ALICE, InProcessFarm.request(toolsThenCopy, farm.uploadContext(ALICE)));
        Job ofAlice = worker.nextJob();
        assertThat(ofAlice.getTeam()).isEqualTo("team-a");

        CompletableFuture<String> bob =
                farm.submit(BOB, InProcessFarm.request(toolsThenBuildFrom, farm.uploadContext(BOB)));
        Job ofBob = worker.nextJob(); // alice's run is still under way

        assertThat(ofBob.getTeam()).isEqualTo("team-b");
        assertThat(ofBob.getStageName()).isEqualTo("tools");
        assertThat(ofBob.getSteps(0).getKey()).isEqualTo(ofAlice.getSteps(0).getKey());
        assertThat(ofBob.getSteps(0).getIsCached())
                .as("team B runs make-tools itself")
                .isFalse();
        alice.cancel(true);
        bob.cancel(true);
    }

    /** Hostile: twelve builds sent at the same instant by a team limited to two in flight. */
    @Test
    void aTeamCannotExceedItsBuildsInFlightBySubmittingInParallel() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", 1, farm.channel(FARM));
        String context = farm.uploadContext(BOB);
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<String>> builds = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            builds.add(CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        return submit(BOB, context).join();
                    },
                    Executors.newVirtualThreadPerTaskExecutor()));
        }
        go.countDown();

        await().atMost(Duration.ofSeconds(20))
                .until(() -> builds.stream().filter(CompletableFuture::isDone).count() >= 10);
        worker.nextJob(); // an admitted build reached the worker
        Thread.sleep(500); // time for a thirteenth admission to show, were there one
        List<CompletableFuture<String>> refused =
                builds.stream().filter(CompletableFuture::isDone).toList();
        assertThat(refused).as("all but the two in flight refused").hasSize(10);
        for (CompletableFuture<String> build : refused) {
            assertThatThrownBy(build::join)
                    .hasCauseInstanceOf(StatusRuntimeException.class)
                    .cause()
                    .satisfies(e -> {
                        Status status = ((StatusRuntimeException) e).getStatus();
                        assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(status.getDescription())
                                .isEqualTo(
                                        "team team-b already has 2 builds in flight, its limit (max-builds in the farm's"
                                                + " tokens file): submit again when one has finished, or ask the farm's operators"
                                                + " to raise it");
                    });
        }

        // the limit is team-b's own: team A still builds
        CompletableFuture<String> alice = submit(ALICE, farm.uploadContext(ALICE));
        Thread.sleep(500);
        assertThat(alice)
                .as("team A's build is admitted and waits for the worker")
                .isNotDone();
        builds.forEach(b -> b.cancel(true));
        alice.cancel(true);
    }

    @Test
    void aBuildAuthorCannotDrainAWorker() {
        assertThatThrownBy(() -> CoordinatorGrpc.newBlockingStub(farm.channel(ALICE))
                        .drainWorker(
                                DrainWorkerRequest.newBuilder().setName("w1").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("needs the admin scope");
                });
    }

    @Test
    void onlyFarmTokensServeAsWorkersAndOnlyWritersBuild() throws Exception {
        CompletableFuture<Throwable> refused = new CompletableFuture<>();
        StreamObserver<WorkerMessage> session = CoordinatorGrpc.newStub(farm.channel(ALICE))
                .connect(new StreamObserver<>() {
                    public void onNext(CoordinatorMessage m) {}

                    public void onError(Throwable t) {
                        refused.complete(t);
                    }

                    public void onCompleted() {}
                });
        session.onNext(WorkerMessage.newBuilder()
                .setHello(WorkerHello.newBuilder().setName("sneaky").setSlots(1))
                .build());
        assertThat(refused.get(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(e.getStatus().getDescription()).contains("needs the farm scope");
        });

        Iterator<BuildEvent> readOnly =
                CoordinatorGrpc.newBlockingStub(farm.channel(READER)).build(request("sha256:" + "0".repeat(64)));
        assertThatThrownBy(readOnly::hasNext)
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription())
                                .contains("token 'reader'")
                                .contains("needs the write scope"));
        Iterator<BuildEvent> anonymous =
                CoordinatorGrpc.newBlockingStub(channel).build(request("sha256:" + "0".repeat(64)));
        assertThatThrownBy(anonymous::hasNext)
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }

    private CompletableFuture<String> submit(String token, String context) {
        return farm.submit(token, request(context));
    }

    private static BuildRequest request(String context) {
        return InProcessFarm.request("FROM scratch\nCOPY a /a\n", context);
    }
}
