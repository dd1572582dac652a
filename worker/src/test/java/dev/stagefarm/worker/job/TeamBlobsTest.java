package dev.stagefarm.worker.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.BearerToken;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.common.auth.Tokens;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One worker, two teams, a cache-server that keeps them apart: what one team's jobs left on the
 * worker's disk (context files, artifacts) is never handed to a job of the other team that names
 * it by digest, unless that team's own cache holds the same bytes.
 */
@Tag("root")
class TeamBlobsTest {

    private static final String ALICE = "alice-token";
    private static final String BOB = "bob-token";
    private static final String FARM = "farm-token";
    private static final byte[] SECRET = "team-a's private key\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    private CacheServer server;
    private ManagedChannel channel;
    private ContentStore blobs;
    private ContextMaterializer contexts;
    private LayerStore layers;

    @BeforeEach
    void setUp() throws Exception {
        Path tokens = Files.writeString(
                tmp.resolve("tokens.json"),
                "{\"tokens\": [" + entry("alice", "team-a", "\"read\",\"write\"", ALICE) + ","
                        + entry("bob", "team-b", "\"read\",\"write\"", BOB) + ","
                        + entry("farm", "ops", "\"read\",\"write\",\"farm\"", FARM) + "]}");
        String name = InProcessServerBuilder.generateName();
        server = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), tmp.resolve("cache"), 0, tokens),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(name))
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        // the worker's own client: the farm token, acting for the running job's team
        CacheClient worker = new CacheClient(TeamChannel.fromContext(as(channel, FARM), true));
        blobs = new ContentStore(tmp.resolve("content"));
        TeamBlobs teams = new TeamBlobs(worker);
        contexts = new ContextMaterializer(
                tmp.resolve("contexts"), worker, blobs, dev.stagefarm.worker.disk.DiskBudget.unlimited(), teams);
        layers = new LayerStore(
                blobs,
                worker,
                null,
                null,
                tmp.resolve("artifacts"),
                dev.stagefarm.worker.disk.DiskBudget.unlimited(),
                teams,
                dev.stagefarm.worker.baseimage.LayerLimits.DEFAULTS);
    }

    @AfterEach
    void tearDown() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    @Test
    void aContextNamingAnotherTeamsFileByDigestDoesNotGetItsBytes() throws Exception {
        CacheClient alice = new CacheClient(as(channel, ALICE));
        Digest secret = alice.upload(SECRET);
        Digest alices = alice.upload(manifest(secret, "key").toByteArray());
        Path a = TeamChannel.callAs("team-a", () -> contexts.materialize(alices, new AtomicLong()));
        assertThat(a.resolve("key")).hasBinaryContent(SECRET);

        // bob learnt the file's digest (a log, a public image) and names it in a manifest of his own
        CacheClient bob = new CacheClient(as(channel, BOB));
        Digest other = bob.upload(manifest(secret, "stolen").toByteArray());
        assertThatThrownBy(() -> TeamChannel.callAs("team-b", () -> contexts.materialize(other, new AtomicLong())))
                .hasMessageContaining(secret.toString());
        // or uploads alice's very manifest, whose layout the worker already has
        Digest same = bob.upload(manifest(secret, "key").toByteArray());
        assertThat(same).isEqualTo(alices);
        assertThatThrownBy(() -> TeamChannel.callAs("team-b", () -> contexts.materialize(same, new AtomicLong())))
                .hasMessageContaining(secret.toString())
                .hasMessageContaining("not in your team's cache");
        // a team that holds not even the manifest
        assertThatThrownBy(() -> TeamChannel.callAs("team-c", () -> contexts.materialize(alices, new AtomicLong())))
                .hasMessageContaining(alices.toString());
        assertThat(found(tmp.resolve("contexts"), SECRET))
                .as("copies of the secret")
                .isEqualTo(1);

        // once bob's own cache holds the same bytes, the worker's copies serve him: nothing to hide
        bob.upload(SECRET);
        assertThat(TeamChannel.callAs("team-b", () -> contexts.materialize(same, new AtomicLong()))
                        .resolve("key"))
                .hasBinaryContent(SECRET);
        AtomicLong fetched = new AtomicLong();
        Path b = TeamChannel.callAs("team-b", () -> contexts.materialize(other, fetched));
        assertThat(b.resolve("stolen")).hasBinaryContent(SECRET);
        assertThat(fetched.get())
                .as("only the manifest fetched: the file came from this worker's disk")
                .isEqualTo(manifest(secret, "stolen").toByteArray().length);
    }

    @Test
    void anArtifactUnpackedForOneTeamIsNotHandedToAnother() throws Exception {
        Path stage = Files.createDirectories(tmp.resolve("stage/app"));
        Files.write(stage.resolve("config"), SECRET);
        ArtifactResult artifact = TeamChannel.callAs(
                "team-a", () -> layers.publishArtifact(tmp.resolve("stage"), List.of("/app/config")));
        Path dir = TeamChannel.callAs("team-a", () -> layers.artifactDir(artifact, new AtomicLong()));
        assertThat(dir.resolve("app/config")).hasBinaryContent(SECRET);

        // bob's plan names alice's artifact (a forged action result would): his cache has no such blob
        assertThatThrownBy(() -> TeamChannel.callAs("team-b", () -> layers.artifactDir(artifact, new AtomicLong())))
                .hasMessageContaining(artifact.getDigest());
    }

    @Test
    void snapshotsOfALayerAreKeyedByTeam() {
        Layer layer = Layer.newBuilder().setDiffId("sha256:" + "a".repeat(64)).build();
        assertThat(LayerStore.snapshotKey("team-a", layer))
                .isNotEqualTo(LayerStore.snapshotKey("team-b", layer))
                .isNotEqualTo(LayerStore.snapshotKey("", layer));
        assertThat(LayerStore.snapshotKey("", layer))
                .as("a farm without teams keeps its keys")
                .isEqualTo("layer:" + layer.getDiffId());
    }

    private static ContextManifest manifest(Digest file, String path) {
        return ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath(path)
                        .setType(ContextEntry.Type.FILE)
                        .setMode(0600)
                        .setSize(SECRET.length)
                        .setDigest(file.toString()))
                .build();
    }

    /** Regular files below {@code dir} holding exactly {@code bytes}. */
    private static long found(Path dir, byte[] bytes) throws Exception {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> {
                        try {
                            return java.util.Arrays.equals(Files.readAllBytes(p), bytes);
                        } catch (java.io.IOException e) {
                            return false;
                        }
                    })
                    .count();
        }
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
