package dev.stagefarm.cacheserver;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.QueryWriteRequest;
import dev.stagefarm.proto.cache.QueryWriteResponse;
import dev.stagefarm.proto.cache.WriteRequest;
import dev.stagefarm.proto.cache.WriteResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache-server as a real separate process, killed with SIGKILL while a large blob is half
 * written: after a restart on the same directory no partial blob is visible and every blob
 * committed before the kill reads back, verified.
 */
class SigkillTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    private Process process;

    @AfterEach
    void kill() {
        if (process != null) {
            process.destroyForcibly();
        }
    }

    @Test
    void killedMidWriteLeavesNoPartialBlobAndLosesNoCommittedOne() throws Exception {
        Path data = dir.resolve("data");
        Path log = dir.resolve("server.log");
        CacheServerProcess.Started first = CacheServerProcess.start(data, log);
        process = first.process();

        List<byte[]> committed = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            committed.add(randomBytes(3 * MiB + 1_000 * i, i));
        }
        for (int i = 0; i < 50; i++) {
            committed.add(randomBytes(4096 + i, 100 + i));
        }
        byte[] large = randomBytes(64 * MiB, 7);
        Digest largeDigest = Digest.of(large);
        List<Digest> committedDigests;

        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", first.port())
                .usePlaintext()
                .build();
        try (CacheClient client = new CacheClient(channel)) {
            committedDigests = client.uploadAll(committed);

            // Half the large blob, then SIGKILL with the stream still open.
            StreamObserver<WriteRequest> write =
                    ContentStoreGrpc.newStub(channel).write(new Ignore());
            for (int offset = 0; offset < 32 * MiB; offset += MiB) {
                WriteRequest.Builder message =
                        WriteRequest.newBuilder().setOffset(offset).setData(ByteString.copyFrom(large, offset, MiB));
                if (offset == 0) {
                    message.setDigest(largeDigest.toString()).setSize(large.length);
                }
                write.onNext(message.build());
            }
            awaitCommitted(channel, largeDigest, 16L * MiB);
            process.destroyForcibly();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }

        CacheServerProcess.Started second = CacheServerProcess.start(data, log);
        process = second.process();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", second.port())
                .usePlaintext()
                .build();
        try (CacheClient client = new CacheClient(channel)) {
            assertThat(client.findMissing(List.of(largeDigest))).containsExactly(largeDigest);
            QueryWriteResponse resumable = ContentStoreGrpc.newBlockingStub(channel)
                    .queryWrite(QueryWriteRequest.newBuilder()
                            .setDigest(largeDigest.toString())
                            .build());
            assertThat(resumable.getComplete()).isFalse();
            assertThat(resumable.getCommittedSize())
                    .isBetween(16L * MiB, 32L * MiB)
                    .matches(n -> n % MiB == 0);

            assertThat(client.stats().getBlobCount()).isEqualTo(committed.size());
            assertThat(client.findMissing(committedDigests)).isEmpty();
            for (int i = 0; i < committed.size(); i++) {
                // readBytes verifies the digest as it reads.
                assertThat(client.readBytes(committedDigests.get(i))).isEqualTo(committed.get(i));
            }

            // The interrupted upload completes from where it stopped, and then reads back whole.
            client.upload(large);
            assertThat(client.readBytes(largeDigest)).isEqualTo(large);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void awaitCommitted(ManagedChannel channel, Digest digest, long bytes) {
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(ContentStoreGrpc.newBlockingStub(channel)
                                .queryWrite(QueryWriteRequest.newBuilder()
                                        .setDigest(digest.toString())
                                        .build())
                                .getCommittedSize())
                        .as("bytes of %s the server committed", digest)
                        .isGreaterThanOrEqualTo(bytes));
    }

    private static final class Ignore implements StreamObserver<WriteResponse> {
        @Override
        public void onNext(WriteResponse value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
    }
}
