package dev.stagefarm.cacheserver;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.cacheserver.service.ContentStoreService;
import dev.stagefarm.cacheserver.store.MutableClock;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.BatchReadBlobsRequest;
import dev.stagefarm.proto.cache.BatchReadBlobsResponse;
import dev.stagefarm.proto.cache.BatchUpdateBlobsRequest;
import dev.stagefarm.proto.cache.BatchUpdateBlobsResponse;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.FindMissingRequest;
import dev.stagefarm.proto.cache.FindMissingResponse;
import dev.stagefarm.proto.cache.GetStatsResponse;
import dev.stagefarm.proto.cache.PruneResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BatchReadBlobs / BatchUpdateBlobs through the client, their limits, and GetStats / Prune. */
class BatchAndAdminTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MutableClock clock = new MutableClock();
    private CacheServer server;
    private ManagedChannel channel;
    private CacheClient client;

    @BeforeEach
    void start() throws Exception {
        start(0);
    }

    private void start(long maxBytes) throws Exception {
        stop();
        String name = InProcessServerBuilder.generateName();
        server = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dir.resolve("data"), maxBytes),
                        registry,
                        InProcessServerBuilder.forName(name),
                        clock)
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        client = new CacheClient(channel);
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
        }
    }

    @Test
    void manySmallFilesGoUpInBatchesAndComeBackVerified() throws Exception {
        Map<Digest, Path> files = new LinkedHashMap<>();
        for (int i = 0; i < 2_000; i++) {
            byte[] data = randomBytes(4096, i);
            Path file = Files.write(dir.resolve("f" + i), data);
            files.put(Digest.of(data), file);
        }
        byte[] big = randomBytes(5 * MiB + 3, 99_999);
        Path bigFile = Files.write(dir.resolve("big"), big);
        files.put(Digest.of(big), bigFile);

        assertThat(client.uploadAll(files)).hasSize(2_001);
        assertThat(client.uploadAll(files))
                .as("nothing to send the second time")
                .isEmpty();

        // 2,000 × 4 KiB is two answers' worth: the server defers what does not fit, the client asks again;
        // the 5 MiB blob cannot be in any batch and is streamed.
        List<Digest> wanted = new ArrayList<>(files.keySet());
        Digest absent = Digest.of(new byte[] {42});
        wanted.add(absent);
        Map<Digest, byte[]> read = client.readAll(wanted);
        assertThat(read).hasSize(2_001).doesNotContainKey(absent);
        for (Map.Entry<Digest, Path> e : files.entrySet()) {
            assertThat(read.get(e.getKey())).isEqualTo(Files.readAllBytes(e.getValue()));
        }
        assertThat(client.stats().getBlobCount()).isEqualTo(2_001);
    }

    @Test
    void inMemoryBlobsGoUpInBatches() throws Exception {
        List<byte[]> blobs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            blobs.add(randomBytes(100 + i, 1_000 + i));
        }
        List<Digest> digests = client.uploadAll(blobs);
        assertThat(digests).hasSize(500);
        assertThat(client.findMissing(digests)).isEmpty();
        assertThat(client.readAll(digests).get(digests.get(7))).isEqualTo(blobs.get(7));
    }

    @Test
    void aBadBlobInABatchFailsOnlyItselfAndTheClientNamesIt() throws Exception {
        byte[] good = randomBytes(100, 1);
        byte[] other = randomBytes(100, 2);
        Digest claimed = Digest.of(randomBytes(100, 3));
        BatchUpdateBlobsResponse response = ContentStoreGrpc.newBlockingStub(channel)
                .batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                        .addRequests(entry(Digest.of(good), good))
                        .addRequests(entry(claimed, other))
                        .addRequests(
                                BatchUpdateBlobsRequest.Request.newBuilder().setDigest("sha256:nope"))
                        .build());
        assertThat(response.getResponsesList())
                .extracting(BatchUpdateBlobsResponse.Response::getCode)
                .containsExactly(0, Status.Code.INVALID_ARGUMENT.value(), Status.Code.INVALID_ARGUMENT.value());
        assertThat(response.getResponses(1).getMessage())
                .contains(Digest.of(other).toString());
        assertThat(client.findMissing(List.of(Digest.of(good), claimed))).containsExactly(claimed);

        Path liar = Files.write(dir.resolve("liar"), other);
        assertThatThrownBy(() -> client.uploadAll(Map.of(claimed, liar)))
                .isInstanceOf(CacheException.class)
                .hasMessageContaining(liar.toString());
    }

    @Test
    void findMissingAnswersDigestStringsAndRawSha256Alike() throws Exception {
        Digest stored = client.upload(randomBytes(10, 1));
        Digest absent = Digest.of(randomBytes(10, 2));
        ContentStoreGrpc.ContentStoreBlockingStub stub = ContentStoreGrpc.newBlockingStub(channel);
        assertThat(stub.findMissing(FindMissingRequest.newBuilder()
                                .addDigests(stored.toString())
                                .addDigests(absent.toString())
                                .build())
                        .getMissingList())
                .containsExactly(absent.toString());
        FindMissingResponse binary = stub.findMissing(FindMissingRequest.newBuilder()
                .addSha256(ByteString.fromHex(stored.hex()))
                .addSha256(ByteString.fromHex(absent.hex()))
                .build());
        assertThat(binary.getMissingIndexList()).containsExactly(1);
        assertThat(binary.getSha256Answered()).isEqualTo(2);
        assertThatThrownBy(() -> stub.findMissing(FindMissingRequest.newBuilder()
                        .addSha256(ByteString.copyFrom(new byte[31]))
                        .build()))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("32");
    }

    @Test
    void batchCallsRefuseMoreThanTheirCountLimit() {
        BatchReadBlobsRequest.Builder request = BatchReadBlobsRequest.newBuilder();
        for (int i = 0; i <= ContentStoreService.MAX_BATCH_BLOBS; i++) {
            request.addDigests(Digest.of(new byte[] {(byte) i, (byte) (i >> 8)}).toString());
        }
        assertThatThrownBy(() -> ContentStoreGrpc.newBlockingStub(channel).batchReadBlobs(request.build()))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("INVALID_ARGUMENT")
                .hasMessageContaining("split");
    }

    @Test
    void aBatchReadAnswerStaysUnderTheMessageLimit() throws Exception {
        List<byte[]> blobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            blobs.add(randomBytes(2 * MiB, 300 + i));
        }
        List<Digest> digests = client.uploadAll(blobs);
        BatchReadBlobsResponse answer = ContentStoreGrpc.newBlockingStub(channel)
                .batchReadBlobs(BatchReadBlobsRequest.newBuilder()
                        .addAllDigests(digests.stream().map(Digest::toString).toList())
                        .build());
        assertThat(answer.getSerializedSize()).isLessThan(4 * MiB);
        assertThat(answer.getResponsesList())
                .extracting(BatchReadBlobsResponse.Response::getCode)
                .containsExactly(0, Status.Code.RESOURCE_EXHAUSTED.value(), Status.Code.RESOURCE_EXHAUSTED.value());
        assertThat(client.readAll(digests)).hasSize(3);
    }

    @Test
    void statsCountBlobsBytesAndActionsAndPruneFreesByAgeAndSize() throws Exception {
        Digest old = client.upload(randomBytes(MiB, 1));
        clock.advance(Duration.ofDays(2));
        Digest recent = client.upload(randomBytes(2 * MiB, 2));
        client.putAction(
                "step-1", ActionResult.newBuilder().addBlobs(old.toString()).build());
        clock.advance(Duration.ofHours(1));

        GetStatsResponse stats = client.stats();
        assertThat(stats.getBlobCount()).isEqualTo(2);
        assertThat(stats.getStoredBytes()).isEqualTo(3L * MiB);
        assertThat(stats.getActionEntries()).isEqualTo(1);
        assertThat(stats.getMaxSize()).isZero();

        PruneResponse byAge = client.prune(0, Duration.ofHours(24));
        assertThat(byAge.getBlobsDeleted()).isEqualTo(1);
        assertThat(byAge.getBytesFreed()).isEqualTo(MiB);
        assertThat(client.getAction("step-1")).as("its blob was pruned").isEmpty();

        PruneResponse bySize = client.prune(MiB, Duration.ZERO);
        assertThat(bySize.getBlobsDeleted()).isEqualTo(1);
        assertThat(bySize.getStoredBytes()).isZero();
        assertThat(client.findMissing(List.of(old, recent))).hasSize(2);
    }

    @Test
    void evictionsAndStoredBytesAreMetrics() throws Exception {
        start(3 * MiB);
        for (int i = 0; i < 6; i++) {
            client.upload(randomBytes(MiB, 70 + i));
            clock.advance(Duration.ofMinutes(5));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> client.stats().getStoredBytes() <= 3 * MiB);
        GetStatsResponse stats = client.stats();
        assertThat(stats.getStoredBytes()).isLessThanOrEqualTo(3L * MiB);
        assertThat(stats.getMaxSize()).isEqualTo(3L * MiB);
        assertThat(registry.get("stagefarm.cache.evictions").functionCounter().count())
                .isEqualTo(stats.getEvictedBlobs())
                .isGreaterThanOrEqualTo(3);
        assertThat(registry.get("stagefarm.cache.stored.bytes").gauge().value()).isEqualTo(stats.getStoredBytes());
    }

    private static BatchUpdateBlobsRequest.Request.Builder entry(Digest digest, byte[] data) {
        return BatchUpdateBlobsRequest.Request.newBuilder()
                .setDigest(digest.toString())
                .setData(ByteString.copyFrom(data));
    }
}
