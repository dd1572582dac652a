package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.cacheclient.MountClient;
import dev.stagefarm.cacheclient.MountUse;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.proto.cache.CacheMountsGrpc;
import dev.stagefarm.proto.cache.MountDelta;
import dev.stagefarm.proto.cache.MountEntry;
import dev.stagefarm.proto.cache.MountHead;
import dev.stagefarm.proto.cache.MountManifest;
import dev.stagefarm.proto.cache.MountSharing;
import dev.stagefarm.proto.cache.UseMountRequest;
import dev.stagefarm.proto.cache.UseMountResponse;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CacheMounts service in-process on a real RocksDB: merges, leases, PRIVATE copies, teams, scopes. */
class CacheMountServiceTest {

    private static final Metadata.Key<String> TEAM = Metadata.Key.of("x-test-team", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> SCOPES =
            Metadata.Key.of("x-test-scopes", Metadata.ASCII_STRING_MARSHALLER);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private TestServers servers;

    /** Stands in for the token interceptor: the team and scopes come from test headers. */
    private static final ServerInterceptor TEST_CALLER = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            String team = headers.get(TEAM);
            if (team == null) {
                return next.startCall(call, headers);
            }
            Set<Caller.Scope> scopes = EnumSet.noneOf(Caller.Scope.class);
            for (String s : headers.get(SCOPES).split(",")) {
                scopes.add(Caller.Scope.valueOf(s));
            }
            Context context = Context.current().withValue(Caller.KEY, new Caller("test-" + team, team, scopes));
            return Contexts.interceptCall(context, call, headers, next);
        }
    };

    @BeforeEach
    void start() throws Exception {
        servers = TestServers.start(dir, registry, TEST_CALLER);
    }

    @AfterEach
    void stop() {
        servers.close();
    }

    @Test
    void concurrentSharedPublishesAreMergedAndTheLaterOneWinsAPath() throws Exception {
        CacheClient cache = new CacheClient(servers.channel);
        MountClient mounts = cache.mounts();
        try (MountUse first = use(mounts, "go", MountSharing.MOUNT_SHARING_SHARED);
                MountUse second = use(mounts, "go", MountSharing.MOUNT_SHARING_SHARED)) {
            assertThat(first.publishes()).isTrue();
            assertThat(second.head().getGeneration())
                    .as("both start from the empty mount")
                    .isZero();

            mounts.publish(first, delta(cache, Map.of("a/one", "1", "same", "from first"), List.of()));
            MountHead head =
                    mounts.publish(second, delta(cache, Map.of("a/two", "2", "same", "from second"), List.of()));

            assertThat(head.getGeneration()).isEqualTo(2);
            assertThat(contents(cache, head))
                    .containsExactly(
                            Map.entry("a", "<dir>"),
                            Map.entry("a/one", "1"),
                            Map.entry("a/two", "2"),
                            Map.entry("same", "from second"));
            assertThat(head.getFiles()).isEqualTo(3);
        }
        try (MountUse third = use(mounts, "go", MountSharing.MOUNT_SHARING_SHARED)) {
            assertThat(third.head().getGeneration())
                    .as("the next step starts from the latest state")
                    .isEqualTo(2);
            MountHead head = mounts.publish(third, delta(cache, Map.of(), List.of("a")));
            assertThat(contents(cache, head))
                    .as("removing a directory removes what is under it")
                    .containsExactly(Map.entry("same", "from second"));
        }
        assertThat(registry.get("stagefarm.cache.mount.publishes").counter().count())
                .isEqualTo(3);
    }

    @Test
    void aPublishNeedsItsFilesStoredAndAnOpenUse() throws Exception {
        CacheClient cache = new CacheClient(servers.channel);
        MountClient mounts = cache.mounts();
        MountDelta unstored =
                MountDelta.newBuilder().addUpserts(file("x", "never uploaded")).build();
        Digest deltaDigest = cache.upload(unstored.toByteArray());
        MountUse use = use(mounts, "npm", MountSharing.MOUNT_SHARING_SHARED);
        assertThatThrownBy(() -> mounts.publish(use, deltaDigest))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION))
                .hasMessageContaining("upload them, then publish");
        Digest good = delta(cache, Map.of("x", "x"), List.of());
        use.close();
        assertThatThrownBy(() -> mounts.publish(use, good))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION))
                .hasMessageContaining("is not open");
        assertThat(mounts.head("npm").getGeneration()).isZero();
    }

    @Test
    void aLockedLeaseIsHeldByOneStepAndPassesOnWhenItsStreamIsCancelled() throws Exception {
        CacheClient cache = new CacheClient(servers.channel);
        MountClient mounts = cache.mounts();
        RawUse holder = RawUse.open(servers.channel, "apt", MountSharing.MOUNT_SHARING_LOCKED);
        UseMountResponse.Granted first = holder.granted.get(5, TimeUnit.SECONDS);

        List<Integer> ahead = new CopyOnWriteArrayList<>();
        CompletableFuture<MountUse> next = CompletableFuture.supplyAsync(() -> {
            try {
                return mounts.use("apt", MountSharing.MOUNT_SHARING_LOCKED, ahead::add, WAIT);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        await().during(Duration.ofMillis(500))
                .atMost(Duration.ofSeconds(2))
                .untilAsserted(
                        () -> assertThat(next).as("a second LOCKED step waits").isNotDone());
        assertThat(ahead).containsExactly(1);

        // the holder publishes, then its stream is cancelled (as when its worker dies)
        Digest d = delta(cache, Map.of("lock-owner", "first"), List.of());
        mounts.publish("apt", first.getUseId(), 0, d);
        holder.requests.cancel("worker gone", null);

        try (MountUse second = next.get(5, TimeUnit.SECONDS)) {
            assertThat(second.publishes()).isTrue();
            assertThat(second.head().getGeneration())
                    .as("it starts from what the holder published")
                    .isEqualTo(1);
            assertThatThrownBy(() -> mounts.publish("apt", first.getUseId(), 0, d))
                    .as("the old holder's lease is gone")
                    .hasMessageContaining("is not open");
        }
        assertThat(registry.get("stagefarm.cache.mount.lease.wait")
                        .tag("sharing", "locked")
                        .timer()
                        .count())
                .isEqualTo(2);
    }

    @Test
    void aPrivateStepThatFindsTheMountBusyWorksOnACopyThatIsNeverPublished() throws Exception {
        CacheClient cache = new CacheClient(servers.channel);
        MountClient mounts = cache.mounts();
        MountUse shared = use(mounts, "pip", MountSharing.MOUNT_SHARING_SHARED);
        mounts.publish(shared, delta(cache, Map.of("wheel", "1"), List.of()));

        try (MountUse copy = use(mounts, "pip", MountSharing.MOUNT_SHARING_PRIVATE)) {
            assertThat(copy.publishes()).isFalse();
            assertThat(copy.head().getGeneration())
                    .as("the copy starts from the latest state")
                    .isEqualTo(1);
            Digest d = delta(cache, Map.of("wheel", "private"), List.of());
            assertThatThrownBy(() -> mounts.publish(copy, d))
                    .isInstanceOfSatisfying(
                            CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
        }
        shared.close();
        try (MountUse alone = use(mounts, "pip", MountSharing.MOUNT_SHARING_PRIVATE)) {
            assertThat(alone.publishes())
                    .as("not busy: it is the mount's normal user")
                    .isTrue();
            try (MountUse other = use(mounts, "pip", MountSharing.MOUNT_SHARING_PRIVATE)) {
                assertThat(other.publishes())
                        .as("busy with the first PRIVATE step")
                        .isFalse();
            }
        }
        assertThat(contents(cache, mounts.head("pip"))).containsExactly(Map.entry("wheel", "1"));
    }

    @Test
    void aTeamNeverSeesAnotherTeamsMountOfTheSameId() throws Exception {
        CacheClient teamA = new CacheClient(as(servers.channel, "a", "READ,WRITE,ADMIN"));
        CacheClient teamB = new CacheClient(as(servers.channel, "b", "READ,WRITE,ADMIN"));
        try (MountUse use = use(teamA.mounts(), "go", MountSharing.MOUNT_SHARING_LOCKED)) {
            teamA.mounts().publish(use, delta(teamA, Map.of("secret", "team a's"), List.of()));
        }
        assertThat(teamB.mounts().head("go").getGeneration()).isZero();
        assertThat(teamB.mounts().list()).isEmpty();
        try (MountUse b = use(teamB.mounts(), "go", MountSharing.MOUNT_SHARING_LOCKED)) {
            assertThat(b.head().getManifestDigest()).isEmpty();
            assertThat(b.publishes())
                    .as("team a's lease does not hold team b back, nor busy it")
                    .isTrue();
        }
        assertThat(teamA.mounts().list()).extracting(MountHead::getId).containsExactly("go");
        assertThat(teamB.mounts().drop(List.of())).isZero();
        assertThat(teamA.mounts().head("go").getGeneration()).isEqualTo(1);
        assertThat(teamA.mounts().drop(List.of("go"))).isEqualTo(1);
        assertThat(teamA.mounts().head("go").getGeneration()).isZero();
    }

    @Test
    void withRealTokensAWorkerActingForATeamWritesOnlyThatTeamsMount() throws Exception {
        try (TestServers secured = TestServers.withTokens(
                dir.resolve("secured"), TestTokens.write(dir, null), new SimpleMeterRegistry())) {
            CacheClient workerForA =
                    new CacheClient(TeamChannel.bind(TestTokens.as(secured.channel, TestTokens.FARM), "team-a"));
            CacheClient alice = new CacheClient(TestTokens.as(secured.channel, TestTokens.ALICE));
            CacheClient bob = new CacheClient(TestTokens.as(secured.channel, TestTokens.BOB));
            try (MountUse use = use(workerForA.mounts(), "go", MountSharing.MOUNT_SHARING_LOCKED)) {
                workerForA.mounts().publish(use, delta(workerForA, Map.of("pkg.a", "team a's"), List.of()));
            }
            assertThat(contents(alice, alice.mounts().head("go"))).containsExactly(Map.entry("pkg.a", "team a's"));
            assertThat(bob.mounts().head("go").getGeneration()).isZero();
            assertThat(bob.mounts().list()).isEmpty();
            try (MountUse b = use(bob.mounts(), "go", MountSharing.MOUNT_SHARING_PRIVATE)) {
                assertThat(b.publishes())
                        .as("team a's use does not make team b's mount busy")
                        .isTrue();
            }
            MountClient reader = new CacheClient(TestTokens.as(secured.channel, TestTokens.READER)).mounts();
            assertThat(reader.head("go").getGeneration()).isEqualTo(1);
            assertThatThrownBy(() -> use(reader, "go", MountSharing.MOUNT_SHARING_LOCKED))
                    .isInstanceOfSatisfying(
                            CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
        }
    }

    @Test
    void aReadOnlyCallerReadsButCannotLockOrPublish() throws Exception {
        MountClient reader = new CacheClient(as(servers.channel, "a", "READ")).mounts();
        assertThatThrownBy(() -> use(reader, "go", MountSharing.MOUNT_SHARING_LOCKED))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("lacks the write scope");
        try (MountUse use = use(reader, "go", MountSharing.MOUNT_SHARING_SHARED)) {
            assertThat(use.publishes()).isFalse();
        }
        assertThatThrownBy(() -> reader.drop(List.of()))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    // ---- helpers ----

    private static MountUse use(MountClient mounts, String id, MountSharing sharing) throws Exception {
        return mounts.use(id, sharing, ahead -> {}, WAIT);
    }

    private static Channel as(Channel channel, String team, String scopes) {
        Metadata headers = new Metadata();
        headers.put(TEAM, team);
        headers.put(SCOPES, scopes);
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** Uploads the files and a delta adding them (and their parent directories) and removing {@code deletes}. */
    private static Digest delta(CacheClient cache, Map<String, String> files, List<String> deletes) throws Exception {
        MountDelta.Builder delta = MountDelta.newBuilder().addAllDeletes(deletes);
        for (Map.Entry<String, String> f : new TreeMap<>(files).entrySet()) {
            cache.upload(f.getValue().getBytes(StandardCharsets.UTF_8));
            int slash = f.getKey().lastIndexOf('/');
            if (slash > 0) {
                delta.addUpserts(MountEntry.newBuilder()
                        .setPath(f.getKey().substring(0, slash))
                        .setType(MountEntry.Type.DIRECTORY)
                        .setMode(0755));
            }
            delta.addUpserts(file(f.getKey(), f.getValue()));
        }
        return cache.upload(delta.build().toByteArray());
    }

    private static MountEntry file(String path, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        return MountEntry.newBuilder()
                .setPath(path)
                .setType(MountEntry.Type.FILE)
                .setMode(0644)
                .setSize(bytes.length)
                .setDigest(Digest.of(bytes).toString())
                .build();
    }

    /** Path → file content ("<dir>" for directories) of a head's manifest, read back through the cache. */
    private static Map<String, String> contents(CacheClient cache, MountHead head) throws Exception {
        MountManifest manifest = MountManifest.parseFrom(cache.readBytes(Digest.parse(head.getManifestDigest())));
        Map<String, String> out = new TreeMap<>();
        for (MountEntry e : manifest.getEntriesList()) {
            out.put(
                    e.getPath(),
                    e.getType() == MountEntry.Type.DIRECTORY
                            ? "<dir>"
                            : new String(cache.readBytes(Digest.parse(e.getDigest())), StandardCharsets.UTF_8));
        }
        return out.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (x, y) -> x, LinkedHashMap::new));
    }

    /** A Use stream driven by hand, so a test can cancel it as a dying worker's connection would. */
    private static final class RawUse {
        final CompletableFuture<UseMountResponse.Granted> granted = new CompletableFuture<>();
        ClientCallStreamObserver<UseMountRequest> requests;

        static RawUse open(Channel channel, String id, MountSharing sharing) {
            RawUse raw = new RawUse();
            CacheMountsGrpc.newStub(channel).use(new ClientResponseObserver<UseMountRequest, UseMountResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<UseMountRequest> requestStream) {
                    raw.requests = requestStream;
                }

                @Override
                public void onNext(UseMountResponse value) {
                    if (value.hasGranted()) {
                        raw.granted.complete(value.getGranted());
                    }
                }

                @Override
                public void onError(Throwable t) {
                    raw.granted.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {}
            });
            raw.requests.onNext(
                    UseMountRequest.newBuilder().setId(id).setSharing(sharing).build());
            return raw;
        }
    }
}
