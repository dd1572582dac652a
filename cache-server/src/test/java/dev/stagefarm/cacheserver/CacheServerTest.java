package dev.stagefarm.cacheserver;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.stagefarm.cacheclient.BlobIntegrityException;
import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.store.RawRocks;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ActionCacheGrpc;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.GetActionResultsRequest;
import dev.stagefarm.proto.cache.QueryWriteRequest;
import dev.stagefarm.proto.cache.QueryWriteResponse;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.ReadResponse;
import dev.stagefarm.proto.cache.WriteRequest;
import dev.stagefarm.proto.cache.WriteResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheServerTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private TestServers servers;
    private CacheClient client;

    @BeforeEach
    void start() throws Exception {
        restart();
    }

    @AfterEach
    void stop() throws Exception {
        servers.close();
    }

    /** Closes the server and its store, if running, and opens new ones on the same directory. */
    private void restart() throws Exception {
        if (servers != null) {
            servers.close();
        }
        servers = TestServers.start(dir.resolve("data"), registry);
        client = new CacheClient(servers.channel);
    }

    private ContentStoreGrpc.ContentStoreBlockingStub blocking() {
        return ContentStoreGrpc.newBlockingStub(servers.channel);
    }

    @Test
    void smallBlobRoundTripsAndIsFoundAfterwards() throws Exception {
        byte[] data = "FROM scratch\n".getBytes();
        Digest digest = Digest.of(data);
        assertThat(client.findMissing(List.of(digest))).containsExactly(digest);

        assertThat(client.upload(data)).isEqualTo(digest);

        assertThat(client.findMissing(List.of(digest))).isEmpty();
        assertThat(client.readBytes(digest)).isEqualTo(data);
        assertThat(registry.get("stagefarm.cache.bytes")
                        .tag("direction", "in")
                        .counter()
                        .count())
                .isEqualTo(data.length);
        // a blob this small goes in one batch call, without a FindMissing first
        assertThat(registry.get("stagefarm.cache.requests")
                        .tag("method", "BatchUpdateBlobs")
                        .timer()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void emptyBlobRoundTrips() throws Exception {
        Digest digest = client.upload(new byte[0]);
        assertThat(client.readBytes(digest)).isEmpty();
    }

    @Test
    void twentyMiBBlobRoundTripsThroughFiles() throws Exception {
        byte[] data = randomBytes(20 * MiB + 12345, 1);
        Path source = dir.resolve("layer.tar.zst");
        Files.write(source, data);
        Digest digest = Digest.of(data);

        client.upload(digest, data.length, source);
        Path dest = dir.resolve("out/layer");
        long n = client.download(digest, dest);

        assertThat(n).isEqualTo(data.length);
        assertThat(Files.readAllBytes(dest)).isEqualTo(data);
        assertThat(Files.list(dest.getParent())).containsExactly(dest);
        assertThat(registry.get("stagefarm.cache.bytes")
                        .tag("direction", "out")
                        .counter()
                        .count())
                .isEqualTo(data.length);
    }

    @Test
    void findMissingAnswersOnlyTheAbsentOnes() throws Exception {
        Digest present = client.upload("a".getBytes());
        Digest absent = Digest.of("b".getBytes());
        assertThat(client.findMissing(List.of(present, absent))).isEqualTo(Set.of(absent));
        assertThat(client.findMissing(List.of())).isEmpty();
    }

    @Test
    void writeWithTheWrongDigestIsRejectedAndStoresNothing() throws Exception {
        byte[] data = randomBytes(3 * MiB / 2, 2);
        Digest claimed = Digest.of("something else".getBytes());
        CompletableFuture<WriteResponse> result = new CompletableFuture<>();
        StreamObserver<WriteRequest> requests =
                ContentStoreGrpc.newStub(servers.channel).write(observer(result));
        requests.onNext(WriteRequest.newBuilder()
                .setDigest(claimed.toString())
                .setSize(data.length)
                .setData(ByteString.copyFrom(data))
                .setFinish(true)
                .build());
        requests.onCompleted();

        assertThat(result)
                .failsWithin(10, TimeUnit.SECONDS)
                .withThrowableThat()
                .havingRootCause()
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription())
                            .contains(claimed.toString(), Digest.of(data).toString());
                });
        assertThat(client.findMissing(List.of(claimed))).containsExactly(claimed);
        assertThat(queryWrite(claimed).getCommittedSize()).isZero();
        assertThatThrownBy(() -> client.readBytes(claimed)).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void writingABlobTheStoreHoldsIsAnsweredAtOnce() throws Exception {
        byte[] data = randomBytes(2 * MiB, 12);
        Digest digest = client.upload(data);
        CompletableFuture<WriteResponse> result = new CompletableFuture<>();
        StreamObserver<WriteRequest> requests =
                ContentStoreGrpc.newStub(servers.channel).write(observer(result));
        requests.onNext(WriteRequest.newBuilder()
                .setDigest(digest.toString())
                .setSize(data.length)
                .setData(ByteString.copyFrom(data, 0, MiB))
                .build());
        // No finish sent: the server already knows it holds every byte.
        assertThat(result.get(10, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(data.length);
        requests.onCompleted();
    }

    @Test
    void brokenWriteResumesFromTheCommittedSize() throws Exception {
        byte[] data = randomBytes(5 * MiB + 77, 3);
        Digest digest = Digest.of(data);
        CompletableFuture<WriteResponse> first = new CompletableFuture<>();
        ClientCallStreamObserver<WriteRequest> requests = (ClientCallStreamObserver<WriteRequest>)
                ContentStoreGrpc.newStub(servers.channel).write(observer(first));
        // 2.5 MiB: two whole chunks become durable, the half chunk is only buffered.
        int half = 5 * MiB / 2;
        for (int offset = 0; offset < half; offset += MiB / 2) {
            WriteRequest.Builder message =
                    WriteRequest.newBuilder().setOffset(offset).setData(ByteString.copyFrom(data, offset, MiB / 2));
            if (offset == 0) {
                message.setDigest(digest.toString()).setSize(data.length);
            }
            requests.onNext(message.build());
        }
        awaitCommitted(digest, 2L * MiB);
        requests.cancel("client crashed", null);
        assertThat(first).failsWithin(10, TimeUnit.SECONDS);

        QueryWriteResponse status = queryWrite(digest);
        assertThat(status.getComplete()).isFalse();
        assertThat(status.getCommittedSize()).isEqualTo(2L * MiB);
        assertThat(client.findMissing(List.of(digest))).containsExactly(digest);

        long resumeAt = status.getCommittedSize();
        CompletableFuture<WriteResponse> second = new CompletableFuture<>();
        StreamObserver<WriteRequest> rest =
                ContentStoreGrpc.newStub(servers.channel).write(observer(second));
        for (long offset = resumeAt; offset < data.length; offset += MiB) {
            int n = (int) Math.min(MiB, data.length - offset);
            WriteRequest.Builder message = WriteRequest.newBuilder()
                    .setOffset(offset)
                    .setData(ByteString.copyFrom(data, (int) offset, n))
                    .setFinish(offset + n == data.length);
            if (offset == resumeAt) {
                message.setDigest(digest.toString()).setSize(data.length);
            }
            rest.onNext(message.build());
        }
        rest.onCompleted();

        assertThat(second.get(10, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(data.length);
        assertThat(queryWrite(digest).getComplete()).isTrue();
        assertThat(client.readBytes(digest)).isEqualTo(data);
    }

    @Test
    void anInterruptedUploadSurvivesARestartButIsNeverVisible() throws Exception {
        byte[] data = randomBytes(3 * MiB, 4);
        Digest digest = Digest.of(data);
        StreamObserver<WriteRequest> requests =
                ContentStoreGrpc.newStub(servers.channel).write(observer(new CompletableFuture<>()));
        requests.onNext(WriteRequest.newBuilder()
                .setDigest(digest.toString())
                .setSize(data.length)
                .setData(ByteString.copyFrom(data, 0, 2 * MiB))
                .build());
        awaitCommitted(digest, 2L * MiB);

        restart(); // the store closes with the upload unfinished, as after a crash

        assertThat(client.findMissing(List.of(digest))).containsExactly(digest);
        assertThat(queryWrite(digest).getCommittedSize()).isEqualTo(2L * MiB);
        CompletableFuture<WriteResponse> result = new CompletableFuture<>();
        StreamObserver<WriteRequest> rest =
                ContentStoreGrpc.newStub(servers.channel).write(observer(result));
        rest.onNext(WriteRequest.newBuilder()
                .setDigest(digest.toString())
                .setSize(data.length)
                .setOffset(2L * MiB)
                .setData(ByteString.copyFrom(data, 2 * MiB, MiB))
                .setFinish(true)
                .build());
        rest.onCompleted();
        assertThat(result.get(10, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(data.length);
        assertThat(client.readBytes(digest)).isEqualTo(data);
    }

    @Test
    void writeBeyondTheCommittedSizeIsOutOfRange() throws Exception {
        byte[] data = randomBytes(2 * MiB, 5);
        CompletableFuture<WriteResponse> result = new CompletableFuture<>();
        StreamObserver<WriteRequest> requests =
                ContentStoreGrpc.newStub(servers.channel).write(observer(result));
        requests.onNext(WriteRequest.newBuilder()
                .setDigest(Digest.of(data).toString())
                .setSize(data.length)
                .setOffset(MiB)
                .setData(ByteString.copyFrom(data, MiB, MiB))
                .setFinish(true)
                .build());
        requests.onCompleted();
        assertThat(result)
                .failsWithin(10, TimeUnit.SECONDS)
                .withThrowableThat()
                .havingRootCause()
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE));
    }

    @Test
    void readHonoursOffsetAndLimit() throws Exception {
        byte[] data = randomBytes(3 * MiB + MiB / 2, 6);
        Digest digest = client.upload(data);

        byte[] middle = read(ReadRequest.newBuilder()
                .setDigest(digest.toString())
                .setOffset(MiB + MiB / 2)
                .setLimit(MiB + 10)
                .build());
        assertThat(middle).isEqualTo(Arrays.copyOfRange(data, MiB + MiB / 2, 2 * MiB + MiB / 2 + 10));

        byte[] tail = read(ReadRequest.newBuilder()
                .setDigest(digest.toString())
                .setOffset(3L * MiB)
                .build());
        assertThat(tail).isEqualTo(Arrays.copyOfRange(data, 3 * MiB, data.length));

        assertThat(read(ReadRequest.newBuilder()
                        .setDigest(digest.toString())
                        .setOffset(data.length)
                        .build()))
                .isEmpty();
        assertThatThrownBy(() -> read(ReadRequest.newBuilder()
                        .setDigest(digest.toString())
                        .setOffset(data.length + 1)
                        .build()))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE));
    }

    @Test
    void readingAMissingBlobIsNotFound() {
        Digest digest = Digest.of("never uploaded".getBytes());
        assertThatThrownBy(() -> client.open(digest))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(digest.toString());
        assertThat(registry.get("stagefarm.cache.lookups")
                        .tag("kind", "blob")
                        .tag("result", "miss")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void aCorruptStoredChunkIsDataLossIsRemovedAndNoneOfItsBytesAreSent() throws Exception {
        byte[] data = randomBytes(3 * MiB, 7);
        Digest digest = client.upload(data);
        servers.close();
        RawRocks.flipByte(dir.resolve("data"), digest, 1, 4242);
        servers = null;
        restart();

        ByteArrayOutputStream received = new ByteArrayOutputStream();
        Iterator<ReadResponse> responses = blocking()
                .read(ReadRequest.newBuilder().setDigest(digest.toString()).build());
        assertThatThrownBy(() -> responses.forEachRemaining(
                        r -> received.writeBytes(r.getData().toByteArray())))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DATA_LOSS);
                    assertThat(e.getStatus().getDescription()).contains(digest.toString(), "upload it again");
                });
        // Chunk 0 was intact and went out; chunk 1 failed its checksum before any of it was sent.
        assertThat(received.toByteArray()).isEqualTo(Arrays.copyOf(data, MiB));
        assertThat(client.findMissing(List.of(digest))).containsExactly(digest);
        assertThat(registry.get("stagefarm.cache.corrupt.blobs").counter().count())
                .isEqualTo(1);

        // Uploading it again heals the cache.
        client.upload(data);
        assertThat(client.readBytes(digest)).isEqualTo(data);
    }

    @Test
    void aRangedReadReadsOnlyItsChunksAndStillNeverServesACorruptOne() throws Exception {
        byte[] data = randomBytes(3 * MiB, 11);
        Digest digest = client.upload(data);
        servers.close();
        RawRocks.flipByte(dir.resolve("data"), digest, 0, 99);
        servers = null;
        restart();

        // Chunk 0 is damaged, but a read of chunk 2's bytes never touches it.
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        blocking()
                .read(ReadRequest.newBuilder()
                        .setDigest(digest.toString())
                        .setOffset(2L * MiB + 5)
                        .build())
                .forEachRemaining(r -> tail.writeBytes(r.getData().toByteArray()));
        assertThat(tail.toByteArray()).isEqualTo(Arrays.copyOfRange(data, 2 * MiB + 5, data.length));
        assertThatThrownBy(() -> client.readBytes(digest))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(digest.toString());
        assertThat(client.findMissing(List.of(digest))).containsExactly(digest);
    }

    @Test
    void aBlobStoredBeforeChunksHadChecksumsIsStillServedAndVerifiedWhole() throws Exception {
        byte[] data = randomBytes(2 * MiB + 17, 12);
        Digest digest = client.upload(data);
        servers.close();
        RawRocks.unseal(dir.resolve("data"), digest);
        servers = null;
        restart();
        assertThat(client.readBytes(digest)).isEqualTo(data);

        servers.close();
        RawRocks.flipByte(dir.resolve("data"), digest, 2, 3);
        servers = null;
        restart();
        assertThatThrownBy(() -> client.readBytes(digest))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(digest.toString());
        assertThat(client.findMissing(List.of(digest))).containsExactly(digest);
    }

    @Test
    void theClientSeesCorruptionAsAnIntegrityError() throws Exception {
        byte[] data = randomBytes(MiB / 2, 8);
        Digest digest = client.upload(data);
        servers.close();
        RawRocks.flipByte(dir.resolve("data"), digest, 0, 7);
        servers = null;
        restart();

        assertThatThrownBy(() -> client.readBytes(digest))
                .isInstanceOf(BlobIntegrityException.class)
                .hasMessageContaining(digest.toString());
        assertThatThrownBy(() -> client.readBytes(digest)).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void committedBlobsSurviveARestart() throws Exception {
        byte[] data = randomBytes(2 * MiB + 3, 9);
        Digest digest = client.upload(data);
        restart();
        assertThat(client.findMissing(List.of(digest))).isEmpty();
        assertThat(client.readBytes(digest)).isEqualTo(data);
    }

    @Test
    void anActionResultWhoseBlobIsGoneIsAMiss() throws Exception {
        Digest layer = client.upload("layer".getBytes());
        Digest gone = Digest.of("never uploaded".getBytes());
        ActionResult complete = artifact(layer);
        ActionResult dangling = artifact(layer, gone);

        client.putAction("key-complete", complete);
        client.putAction("key-dangling", dangling);

        assertThat(client.getAction("key-complete")).contains(complete);
        assertThat(client.getAction("key-dangling")).isEmpty();
        assertThat(client.getAction("key-unknown")).isEmpty();
        assertThat(registry.get("stagefarm.cache.lookups")
                        .tag("kind", "action")
                        .tag("result", "miss")
                        .counter()
                        .count())
                .isEqualTo(2);

        restart();
        assertThat(client.getAction("key-complete")).contains(complete);
    }

    @Test
    void manyActionKeysAreAnsweredInOneCallEachAsItsOwnLookupWouldBe() throws Exception {
        Digest layer = client.upload("layer".getBytes());
        ActionResult complete = artifact(layer);
        client.putAction("key-complete", complete);
        client.putAction("key-dangling", artifact(layer, Digest.of("never uploaded".getBytes())));

        var answers = ActionCacheGrpc.newBlockingStub(servers.channel)
                .getActionResults(GetActionResultsRequest.newBuilder()
                        .addAllKeys(List.of("key-unknown", "key-complete", "key-dangling"))
                        .build());

        assertThat(answers.getAnswersList())
                .extracting(a -> a.hasHit() ? "hit" : a.getMiss())
                .containsExactly(
                        "no action result for key key-unknown",
                        "hit",
                        "the action result for key key-dangling needs blobs the cache no longer holds ("
                                + Digest.of("never uploaded".getBytes()) + "); rebuild the step");
        assertThat(answers.getAnswers(1).getHit()).isEqualTo(complete);
        assertThat(client.getActions(List.of("key-complete", "key-unknown", "key-complete")))
                .containsExactly(
                        Map.entry("key-complete", Optional.of(complete)), Map.entry("key-unknown", Optional.empty()));
        assertThat(registry.get("stagefarm.cache.lookups")
                        .tag("kind", "action")
                        .tag("result", "hit")
                        .counter()
                        .count())
                .as("each key counts as a lookup")
                .isEqualTo(2);
    }

    @Test
    void aCallWithTooManyActionKeysIsRefusedWithWhatToDo() {
        var keys = GetActionResultsRequest.newBuilder();
        for (int i = 0; i <= 1_000; i++) {
            keys.addKeys("key-" + i);
        }
        assertThatThrownBy(
                        () -> ActionCacheGrpc.newBlockingStub(servers.channel).getActionResults(keys.build()))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("INVALID_ARGUMENT")
                .hasMessageContaining("at most 1000 keys a call, not 1001; split them");
    }

    private static ActionResult artifact(Digest... blobs) {
        ActionResult.Builder result = ActionResult.newBuilder()
                .setArtifact(ArtifactResult.newBuilder()
                        .setDigest(blobs[0].toString())
                        .setSize(5));
        for (Digest blob : blobs) {
            result.addBlobs(blob.toString());
        }
        return result.build();
    }

    private byte[] read(ReadRequest request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        blocking()
                .read(request)
                .forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
        return out.toByteArray();
    }

    private QueryWriteResponse queryWrite(Digest digest) {
        return blocking()
                .queryWrite(QueryWriteRequest.newBuilder()
                        .setDigest(digest.toString())
                        .build());
    }

    private void awaitCommitted(Digest digest, long bytes) {
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(queryWrite(digest).getCommittedSize())
                        .as("bytes of %s committed", digest)
                        .isGreaterThanOrEqualTo(bytes));
    }

    static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.completeExceptionally(new AssertionError("completed without a response"));
            }
        };
    }
}
