package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
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
import dev.stagefarm.proto.farm.AgentFrame;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
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
import java.util.HexFormat;
import java.util.Iterator;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a worker is given of a build, and what one build can reach of another's: a job carries
 * only the secrets its own steps mount, and a client's ssh agents serve only the build that
 * client submitted. Real coordinator and cache-server with a tokens file, in process.
 */
class WorkerIsolationTest {

    private static final String ALICE = "alice-token";
    private static final String ALICE_CI = "alice-ci-token";
    private static final String BOB = "bob-token";
    private static final String FARM = "farm-token";

    /** Two stages, each mounting a secret of its own; the build is given a third nobody mounts. */
    private static final String TWO_SECRETS = """
            FROM scratch AS first
            COPY a /a
            RUN --mount=type=secret,id=first-secret true
            FROM scratch
            COPY --from=first /a /a
            RUN --mount=type=secret,id=final-secret,env=TOKEN --mount=type=ssh true
            """;

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
                        + entry("alice-ci", "team-a", "\"read\",\"write\"", ALICE_CI) + ","
                        + entry("bob", "team-b", "\"read\",\"write\"", BOB) + ","
                        + entry("farm", "ops", "\"read\",\"write\",\"farm\"", FARM) + "]}");
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
    void aJobReceivesOnlyTheSecretsItsOwnStepsMount() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", as(channel, FARM));
        BuildRequest request = request(uploadContext(ALICE))
                .putSecrets("first-secret", ByteString.copyFromUtf8("one"))
                .putSecrets("final-secret", ByteString.copyFromUtf8("two"))
                .putSecrets("unused-secret", ByteString.copyFromUtf8("three"))
                .addSshIds("default")
                .build();
        CompletableFuture<String> build = submit(ALICE, request);

        Job first = worker.nextJob();
        assertThat(first.getSecretsMap()).containsOnlyKeys("first-secret");
        assertThat(first.getSshIdsList()).as("the first stage mounts no agent").isEmpty();
        assertThat(first.getAgentSessionId()).isEmpty();
        worker.finish(first, first.getStageKey());

        Job last = worker.nextJob();
        assertThat(last.getSecretsMap()).containsOnlyKeys("final-secret");
        assertThat(last.getSecretsMap().get("final-secret").toStringUtf8()).isEqualTo("two");
        assertThat(last.getSshIdsList()).containsExactly("default");
        worker.finish(last, last.getStageKey());
        build.get(10, TimeUnit.SECONDS);
    }

    @Test
    void sshAgentsServeOnlyTheBuildWhoseClientForwardsThem() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", as(channel, FARM));
        Client alice = Client.forward(as(channel, ALICE), "alice-session");
        String context = uploadContext(ALICE);

        // another team's build, and another client of the same team, name alice's session: refused
        String bobs = submit(
                        BOB,
                        request(uploadContext(BOB))
                                .setSessionId("alice-session")
                                .addSshIds("default")
                                .build())
                .get(10, TimeUnit.SECONDS);
        assertThat(bobs).startsWith("PERMISSION_DENIED").contains("no client of yours forwards ssh agents");
        String ci = submit(
                        ALICE_CI,
                        request(context)
                                .setSessionId("alice-session")
                                .addSshIds("default")
                                .build())
                .get(10, TimeUnit.SECONDS);
        assertThat(ci).startsWith("PERMISSION_DENIED");

        // alice's own build gets a ticket of its own, not her session id
        CompletableFuture<String> build = submit(
                ALICE,
                request(context)
                        .setSessionId("alice-session")
                        .addSshIds("default")
                        .build());
        Job first = worker.nextJob();
        worker.finish(first, first.getStageKey());
        Job last = worker.nextJob();
        String ticket = last.getAgentSessionId();
        assertThat(ticket).isNotEmpty().isNotEqualTo("alice-session");

        // a second build naming the same session while the first runs: refused, it is claimed
        assertThat(submit(
                                ALICE,
                                request(context)
                                        .setSessionId("alice-session")
                                        .addSshIds("default")
                                        .build())
                        .get(10, TimeUnit.SECONDS))
                .startsWith("PERMISSION_DENIED");

        // a worker (any job) that names the session id itself reaches nothing
        Status raw = connectAgent("alice-session").error.poll(5, TimeUnit.SECONDS);
        assertThat(raw).isNotNull();
        assertThat(raw.getCode()).isEqualTo(Status.Code.NOT_FOUND);

        // the job's ticket reaches alice's client
        AgentConn conn = connectAgent(ticket);
        AgentFrame opened = alice.frames.poll(5, TimeUnit.SECONDS);
        assertThat(opened).isNotNull();
        assertThat(opened.getSshId()).isEqualTo("default");
        conn.out.onCompleted();

        worker.finish(last, last.getStageKey());
        assertThat(build.get(10, TimeUnit.SECONDS)).isEmpty();
        // the build ended: its ticket is dead
        Status late = connectAgent(ticket).error.poll(5, TimeUnit.SECONDS);
        assertThat(late).isNotNull();
        assertThat(late.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }

    /** A worker's side of one agent connection. */
    private record AgentConn(StreamObserver<AgentFrame> out, BlockingQueue<Status> error) {}

    private AgentConn connectAgent(String sessionId) {
        BlockingQueue<Status> error = new LinkedBlockingQueue<>();
        StreamObserver<AgentFrame> out = CoordinatorGrpc.newStub(as(channel, FARM))
                .connectAgent(new StreamObserver<>() {
                    public void onNext(AgentFrame f) {}

                    public void onError(Throwable t) {
                        error.add(Status.fromThrowable(t));
                    }

                    public void onCompleted() {}
                });
        out.onNext(AgentFrame.newBuilder()
                .setSessionId(sessionId)
                .setSshId("default")
                .build());
        return new AgentConn(out, error);
    }

    /** A client's ForwardAgents stream, registered (acknowledged) before it returns. */
    private static final class Client {
        final BlockingQueue<AgentFrame> frames = new LinkedBlockingQueue<>();

        static Client forward(Channel channel, String sessionId) throws InterruptedException {
            Client c = new Client();
            StreamObserver<AgentFrame> out = CoordinatorGrpc.newStub(channel).forwardAgents(new StreamObserver<>() {
                public void onNext(AgentFrame f) {
                    c.frames.add(f);
                }

                public void onError(Throwable t) {}

                public void onCompleted() {}
            });
            out.onNext(AgentFrame.newBuilder().setSessionId(sessionId).build());
            assertThat(c.frames.poll(5, TimeUnit.SECONDS)).as("registered").isNotNull();
            return c;
        }
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

    private static BuildRequest.Builder request(String context) {
        return BuildRequest.newBuilder()
                .setDockerfile(TWO_SECRETS)
                .setDockerfileName("Dockerfile")
                .setContextDigest(context)
                .setWantImage(false);
    }

    /** Runs a build in the background; completes with "CODE: message" of its error, or "" when it ends without one. */
    private CompletableFuture<String> submit(String token, BuildRequest request) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Iterator<BuildEvent> events =
                        CoordinatorGrpc.newBlockingStub(as(channel, token)).build(request);
                while (events.hasNext()) {
                    BuildEvent e = events.next();
                    if (e.hasError()) {
                        return e.getError().getMessage();
                    }
                }
                return "";
            } catch (StatusRuntimeException e) {
                return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
            }
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
}
