package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.version.FarmVersion;
import dev.stagefarm.common.version.VersionHeaders;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.WorkerHello;
import dev.stagefarm.proto.farm.WorkerInfo;
import dev.stagefarm.proto.farm.WorkerMessage;
import dev.stagefarm.proto.farm.WorkerStatus;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mixed versions during a rolling upgrade: an equal protocol works whatever the release, another is refused. */
class VersionHandshakeTest {

    private static final FarmVersion OURS = FarmVersion.CURRENT;
    private static final FarmVersion NEXT_PROTOCOL = new FarmVersion("9.0.0", FarmVersion.PROTOCOL + 1);
    private static final FarmVersion OLDER_RELEASE = new FarmVersion("0.0.1-old", FarmVersion.PROTOCOL);

    private CoordinatorServer coordinator;
    private ManagedChannel channel;
    private ManagedChannel unusedCache;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        // sessions and listings never reach the cache-server
        unusedCache = InProcessChannelBuilder.forName(InProcessServerBuilder.generateName())
                .build();
        coordinator = new CoordinatorServer(
                        InProcessServerBuilder.forName(name),
                        new CacheClient(unusedCache),
                        "cache",
                        new RegistryClient(RegistryConfig.defaults(), CredentialStore.none()),
                        Duration.ofSeconds(20),
                        new SimpleMeterRegistry())
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        unusedCache.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        coordinator.close();
    }

    @Test
    void aWorkerOfAnotherProtocolIsRefusedWithOneSentenceNamingBothVersions() throws Exception {
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        hello(channel, "w-next", NEXT_PROTOCOL, ended);

        Status status = Status.fromThrowable(ended.get(5, TimeUnit.SECONDS));
        assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(status.getDescription())
                .isEqualTo("worker w-next runs stagefarm 9.0.0 (protocol " + NEXT_PROTOCOL.protocol()
                        + ") but the coordinator runs " + OURS.release() + " (protocol " + OURS.protocol()
                        + "): they cannot work together; upgrade the coordinator to a release with protocol "
                        + NEXT_PROTOCOL.protocol()
                        + " (releases with equal protocols mix freely during a rolling upgrade)");
        assertThat(workers(channel)).extracting(WorkerInfo::getName).doesNotContain("w-next");
    }

    @Test
    void aWorkerOfAnotherReleaseWithTheSameProtocolJoinsAndReportsItsDisk() throws Exception {
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        StreamObserver<WorkerMessage> worker = hello(channel, "w-old", OLDER_RELEASE, ended);
        worker.onNext(WorkerMessage.newBuilder()
                .setStatus(WorkerStatus.newBuilder()
                        .setLocalDiskUsedBytes(3L << 30)
                        .setLocalDiskBudgetBytes(20L << 30))
                .build());

        WorkerInfo listed = awaitListed("w-old", w -> w.getLocalDiskUsedBytes() != 0);
        assertThat(ended).isNotDone();
        assertThat(listed.getLocalDiskUsedBytes()).isEqualTo(3L << 30);
        assertThat(listed.getLocalDiskBudgetBytes()).isEqualTo(20L << 30);
        worker.onCompleted();
    }

    @Test
    void aClientOfAnotherProtocolIsRefusedBeforeItsCallRuns() {
        Channel next = ClientInterceptors.intercept(channel, VersionHeaders.client(NEXT_PROTOCOL));

        assertThatThrownBy(() -> workers(next)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription())
                    .startsWith("this client runs stagefarm 9.0.0 (protocol " + NEXT_PROTOCOL.protocol()
                            + ") but the coordinator runs " + OURS.release())
                    .contains("upgrade the coordinator");
        });
    }

    @Test
    void aProtocolThatIsNoNumberIsRefusedNotServed() {
        Metadata garbage = new Metadata();
        garbage.put(VersionHeaders.PROTOCOL, "1; drop table");
        Channel hostile = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(garbage));

        assertThatThrownBy(() -> workers(hostile))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
    }

    @Test
    void aClientOfAnotherReleaseWithTheSameProtocolIsServed() {
        Channel older = ClientInterceptors.intercept(channel, VersionHeaders.client(OLDER_RELEASE));

        assertThat(workers(older)).isEmpty();
    }

    @Test
    void theCacheServerRefusesAnotherProtocolAndServesAnotherRelease(@TempDir Path dir) throws Exception {
        String name = InProcessServerBuilder.generateName();
        try (CacheServer cache = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dir.resolve("cache"), 0),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(name))
                .start()) {
            ManagedChannel raw = InProcessChannelBuilder.forName(name).build();
            try {
                HealthCheckRequest check = HealthCheckRequest.getDefaultInstance();
                assertThatThrownBy(() -> HealthGrpc.newBlockingStub(
                                        ClientInterceptors.intercept(raw, VersionHeaders.client(NEXT_PROTOCOL)))
                                .check(check))
                        .isInstanceOfSatisfying(
                                StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getDescription())
                                        .startsWith(
                                                "this client runs stagefarm 9.0.0 (protocol " + NEXT_PROTOCOL.protocol()
                                                        + ") but the cache-server runs " + OURS.release()));
                assertThat(HealthGrpc.newBlockingStub(
                                        ClientInterceptors.intercept(raw, VersionHeaders.client(OLDER_RELEASE)))
                                .check(check)
                                .getStatus())
                        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                raw.shutdownNow();
            }
        }
    }

    @Test
    void anOlderProtocolIsToldToUpgradeItself() {
        String sentence = FarmVersion.refusal(
                "worker w1", new FarmVersion("0.0.1", 1), "coordinator", new FarmVersion("2.0.0", 2));

        assertThat(sentence).contains("upgrade worker w1 to a release with protocol 2");
    }

    private static StreamObserver<WorkerMessage> hello(
            Channel channel, String name, FarmVersion version, CompletableFuture<Throwable> ended) {
        StreamObserver<WorkerMessage> out = CoordinatorGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(CoordinatorMessage value) {}

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }
        });
        out.onNext(WorkerMessage.newBuilder()
                .setHello(WorkerHello.newBuilder()
                        .setName(name)
                        .setSlots(1)
                        .setReleaseVersion(version.release())
                        .setProtocolVersion(version.protocol()))
                .build());
        return out;
    }

    /** {@code name}'s line in the listing, once it is there and {@code ready}. */
    private WorkerInfo awaitListed(String name, Predicate<WorkerInfo> ready) {
        return await(name + " listed")
                .atMost(Duration.ofSeconds(5))
                .until(
                        () -> workers(channel).stream()
                                .filter(w -> w.getName().equals(name))
                                .findFirst(),
                        w -> w.isPresent() && ready.test(w.get()))
                .orElseThrow();
    }

    private static List<WorkerInfo> workers(Channel channel) {
        return CoordinatorGrpc.newBlockingStub(channel)
                .listWorkers(ListWorkersRequest.getDefaultInstance())
                .getWorkersList();
    }
}
