package dev.stagefarm.cacheclient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client's own guarantees, against a fake server that can lie. The real server's tests live in cache-server. */
class CacheClientTest {

    @TempDir
    Path dir;

    private final FakeContentStore fake = new FakeContentStore();
    private Server server;
    private ManagedChannel channel;
    private CacheClient client;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(fake).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        client = new CacheClient(channel);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void aServerNeverReachedFailsAtOnceSayingWhatTheSocketSaid() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (CacheClient nobody = CacheClient.connect("127.0.0.1:" + port)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> nobody.findMissing(List.of(Digest.of(new byte[0]))))
                    .isInstanceOf(CacheException.class)
                    .hasMessageStartingWith(
                            "cache-server 127.0.0.1:" + port + " is unreachable while looking up 1 blobs")
                    .hasMessageContaining("Connection refused");
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("a wrong address is a mistake to say at once, not an outage to wait out")
                    .isLessThan(Retry.BUDGET.dividedBy(3));
        }
    }

    @Test
    void bytesThatDoNotMatchTheirDigestFailAtTheEndOfTheStream() throws Exception {
        byte[] data = random(3 << 20);
        Digest digest = client.upload(data);
        fake.damageReads = true;

        try (InputStream in = client.open(digest)) {
            byte[] buf = new byte[64 << 10];
            assertThatThrownBy(() -> {
                        while (in.read(buf) >= 0) {
                            // drain
                        }
                    })
                    .isInstanceOf(BlobIntegrityException.class)
                    .hasMessageContaining(digest.toString());
        }
        assertThatThrownBy(() -> client.readBytes(digest)).isInstanceOf(BlobIntegrityException.class);
    }

    @Test
    void aBoundedReadStopsPastItsLimitAndStillVerifiesWhatFits() throws Exception {
        byte[] data = random(3 << 20);
        Digest digest = client.upload(data);

        assertThat(client.readBytes(digest, 4 << 20)).isEqualTo(data);
        assertThatThrownBy(() -> client.readBytes(digest, 1 << 20))
                .isInstanceOf(BlobTooLargeException.class)
                .hasMessage("blob " + digest + " is larger than 1.0 MiB");
        fake.damageReads = true;
        assertThatThrownBy(() -> client.readBytes(digest, 4 << 20)).isInstanceOf(BlobIntegrityException.class);
    }

    @Test
    void aFailedDownloadLeavesNoFileBehind() throws Exception {
        Digest digest = client.upload(random(100_000));
        fake.damageReads = true;
        Path dest = dir.resolve("blob");

        assertThatThrownBy(() -> client.download(digest, dest)).isInstanceOf(BlobIntegrityException.class);
        try (var files = Files.list(dir)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void downloadReplacesTheTargetAtomically() throws Exception {
        byte[] data = random(70_000);
        Digest digest = client.upload(data);
        Path dest = dir.resolve("blob");
        Files.writeString(dest, "stale");

        assertThat(client.download(digest, dest)).isEqualTo(data.length);
        assertThat(Files.readAllBytes(dest)).isEqualTo(data);
    }

    @Test
    void aBlobTheCacheLacksIsNoSuchFile() {
        Digest digest = Digest.of(new byte[] {42});
        assertThatThrownBy(() -> client.open(digest))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(digest.toString());
    }

    @Test
    void findMissingSplitsLargeQueriesIntoBatchesOfTenThousand() throws Exception {
        List<Digest> digests = new ArrayList<>();
        for (int i = 0; i < 25_001; i++) {
            digests.add(Digest.of(Integer.toString(i).getBytes()));
        }
        assertThat(client.findMissing(digests)).hasSize(25_001);
        // the batches are in flight together (FIND_MISSING_IN_FLIGHT), so they arrive in any order
        assertThat(fake.findMissingSizes).containsExactlyInAnyOrder(10_000, 10_000, 5_001);
    }

    @Test
    void findMissingFallsBackToStringsForAServerWithoutTheBinaryForm() throws Exception {
        fake.textOnly = true;
        byte[] stored = random(10);
        client.upload(stored);
        Digest absent = Digest.of(new byte[] {7});
        assertThat(client.findMissing(List.of(Digest.of(stored), absent))).containsExactly(absent);
    }

    @Test
    void uploadSkipsWhatTheCacheAlreadyHolds() throws Exception {
        byte[] data = random(SingleUploads.DIRECT_WRITE_BYTES + 10);
        client.upload(data);
        Path file = dir.resolve("same");
        Files.write(file, data);
        client.upload(Digest.of(data), data.length, file);
        client.upload(data);
        assertThat(fake.writes).hasValue(1);
    }

    @Test
    void aSmallBlobIsWrittenInOneCallWithoutAskingFirst() throws Exception {
        byte[] data = random(10);
        Path file = dir.resolve("small");
        Files.write(file, data);

        client.upload(Digest.of(data), data.length, file);
        client.upload(random(SingleUploads.DIRECT_WRITE_BYTES - 1));

        assertThat(fake.findMissingSizes).isEmpty();
        assertThat(fake.writes).hasValue(0);
        assertThat(fake.batchWrites).hasValue(2);
        assertThat(client.readBytes(Digest.of(data))).isEqualTo(data);
    }

    @Test
    void aSmallFileThatChangedSizeFailsClearlyAndSendsNothing() throws Exception {
        byte[] data = random(5000);
        Path file = dir.resolve("grew");
        Files.write(file, data);

        assertThatThrownBy(() -> client.upload(Digest.of(data), data.length - 100, file))
                .hasMessageContaining("longer than the 4900 bytes being uploaded");
        assertThat(fake.batchWrites).hasValue(0);
    }

    @Test
    void twoUploadsOfOneBlobAtOnceSendItOnce() throws Exception {
        byte[] data = random(3 << 20);
        Path file = dir.resolve("twice");
        Files.write(file, data);
        // without one upload at a time, both would ask, find the blob missing and write it
        fake.finishWritesWhenAsked = 2;
        try (ExecutorService uploads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Object>> both = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                both.add(uploads.submit(() -> {
                    client.upload(Digest.of(data), data.length, file);
                    return null;
                }));
            }
            for (Future<Object> upload : both) {
                upload.get();
            }
        }
        assertThat(fake.writes).hasValue(1);
        assertThat(fake.blobs.get(Digest.of(data).toString())).isEqualTo(data);
    }

    @Test
    void uploadOfAFileThatShrankFailsClearly() throws Exception {
        byte[] data = random(5000);
        Path file = dir.resolve("shrinks");
        Files.write(file, data);
        assertThatThrownBy(() -> client.upload(Digest.of(data), data.length + 100, file))
                .hasMessageContaining("shorter");
    }

    private static byte[] random(int size) {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        return data;
    }
}
