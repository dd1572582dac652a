package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.BearerToken;
import dev.stagefarm.common.auth.ReloadingTokens;
import dev.stagefarm.common.auth.Tokens;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.DrainWorkerRequest;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.WorkerHello;
import dev.stagefarm.proto.farm.WorkerMessage;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
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

    private CacheServer cache;
    private ManagedChannel cacheChannel;
    private CoordinatorServer coordinator;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        Path tokens = Files.writeString(
                dir.resolve("tokens.json"),
                "{\"tokens\": ["
                        + entry("alice", "team-a", "\"read\",\"write\"", ALICE) + ","
                        + entry("bob", "team-b", "\"read\",\"write\"", BOB) + ","
                        + entry("reader", "team-a", "\"read\"", READER) + ","
                        + entry("farm", "ops", "\"read\",\"write\",\"farm\"", FARM) + "],"
                        + " \"teams\": {\"team-b\": {\"max-builds\": 2, \"weight\": 2}}}");
        String cacheName = InProcessServerBuilder.generateName();
        cache = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dir.resolve("cache"), 0, tokens),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(cacheName))
                .start();
        cacheChannel = InProcessChannelBuilder.forName(cacheName).build();
        String name = InProcessServerBuilder.generateName();
        coordinator = new CoordinatorServer(
                        InProcessServerBuilder.forName(name),
                        new CacheClient(as(cacheChannel, FARM)),
                        "cache",
                        new RegistryClient(RegistryConfig.defaults(), CredentialStore.none()),
                        Duration.ofSeconds(20),
                        new SimpleMeterRegistry(),
                        ReloadingTokens.open(tokens, Clock.systemUTC()))
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        coordinator.close();
        cacheChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        cache.close();
    }

    @Test
    void aBuildRunsInItsSubmittersTeamAndItsJobsCarryIt() throws Exception {
        BlockingWorker worker = BlockingWorker.connect(as(channel, FARM), "w1");
        String context = uploadContext(ALICE);

        CompletableFuture<String> alice = submit(ALICE, context);
        Job job = worker.jobs.poll(20, TimeUnit.SECONDS);
        assertThat(job).as("the stage went to the farm's worker").isNotNull();
        assertThat(job.getTeam()).isEqualTo("team-a");

        assertThat(submit(BOB, context).get(20, TimeUnit.SECONDS))
                .as("team B's build cannot read team A's context")
                .contains("could not read the build context");
        alice.cancel(true);
    }

    /** Hostile: twelve builds sent at the same instant by a team limited to two in flight. */
    @Test
    void aTeamCannotExceedItsBuildsInFlightBySubmittingInParallel() throws Exception {
        BlockingWorker worker = BlockingWorker.connect(as(channel, FARM), "w1");
        String context = uploadContext(BOB);
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

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (builds.stream().filter(CompletableFuture::isDone).count() < 10 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(worker.jobs.poll(20, TimeUnit.SECONDS))
                .as("an admitted build reached the worker")
                .isNotNull();
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
        CompletableFuture<String> alice = submit(ALICE, uploadContext(ALICE));
        Thread.sleep(500);
        assertThat(alice)
                .as("team A's build is admitted and waits for the worker")
                .isNotDone();
        builds.forEach(b -> b.cancel(true));
        alice.cancel(true);
    }

    @Test
    void aBuildAuthorCannotDrainAWorker() {
        assertThatThrownBy(() -> CoordinatorGrpc.newBlockingStub(as(channel, ALICE))
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
        StreamObserver<WorkerMessage> session = CoordinatorGrpc.newStub(as(channel, ALICE))
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
                CoordinatorGrpc.newBlockingStub(as(channel, READER)).build(request("sha256:" + "0".repeat(64)));
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

    /** Uploads a one-file context as {@code token}'s team; returns the manifest's digest. */
    private String uploadContext(String token) throws Exception {
        CacheClient client = new CacheClient(as(cacheChannel, token));
        byte[] file = "hello\n".getBytes();
        Digest fileDigest = client.upload(file);
        ContextManifest manifest = ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath("a")
                        .setType(ContextEntry.Type.FILE)
                        .setMode(0644)
                        .setSize(file.length)
                        .setDigest(fileDigest.toString()))
                .build();
        return client.upload(manifest.toByteArray()).toString();
    }

    private static BuildRequest request(String context) {
        return BuildRequest.newBuilder()
                .setDockerfile("FROM scratch\nCOPY a /a\n")
                .setDockerfileName("Dockerfile")
                .setContextDigest(context)
                .setWantImage(true)
                .build();
    }

    /** Runs a build in the background; completes with its error message, or "" when it ends without one. */
    private CompletableFuture<String> submit(String token, String context) {
        return CompletableFuture.supplyAsync(() -> {
            Iterator<BuildEvent> events =
                    CoordinatorGrpc.newBlockingStub(as(channel, token)).build(request(context));
            while (events.hasNext()) {
                BuildEvent e = events.next();
                if (e.hasError()) {
                    return e.getError().getMessage();
                }
            }
            return "";
        });
    }

    private static Channel as(Channel channel, String token) {
        BearerToken credentials = BearerToken.of(token);
        return ClientInterceptors.intercept(channel, new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                    MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return next.newCall(method, options.withCallCredentials(credentials));
            }
        });
    }

    private static String entry(String name, String team, String scopes, String token) {
        return "{\"name\": \"" + name + "\", \"team\": \"" + team + "\", \"scopes\": [" + scopes + "], \"sha256\": \""
                + HexFormat.of().formatHex(Tokens.sha256(token)) + "\"}";
    }

    /** A worker session that only collects the jobs it is sent. */
    private static final class BlockingWorker {
        final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();

        static BlockingWorker connect(Channel channel, String name) throws InterruptedException {
            BlockingWorker w = new BlockingWorker();
            StreamObserver<WorkerMessage> out = CoordinatorGrpc.newStub(channel).connect(new StreamObserver<>() {
                public void onNext(CoordinatorMessage m) {
                    if (m.hasJob()) {
                        w.jobs.add(m.getJob());
                    }
                }

                public void onError(Throwable t) {}

                public void onCompleted() {}
            });
            out.onNext(WorkerMessage.newBuilder()
                    .setHello(WorkerHello.newBuilder().setName(name).setSlots(1))
                    .build());
            return w;
        }
    }
}
