package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads over a real Netty connection, where both sides take their fast paths: the server reads
 * every chunk of a call into one buffer on the connection's thread, and the client keeps the
 * transport's buffers instead of copying each message.
 */
class NettyReadTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void concurrentReadsOnOneConnectionEachGetTheirOwnBytes() throws Exception {
        try (CacheServer server = nettyServer();
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            // Sizes that end mid-message and mid-chunk; enough messages to top the request up many times.
            List<byte[]> blobs = List.of(
                    TestServers.randomBytes(24 * MiB + 12_345, 1),
                    TestServers.randomBytes(17 * MiB + 1, 2),
                    TestServers.randomBytes(3 * MiB - 7, 3));
            List<Digest> digests = new ArrayList<>();
            for (byte[] blob : blobs) {
                digests.add(client.upload(blob));
            }
            ExecutorService readers = Executors.newFixedThreadPool(blobs.size());
            try {
                List<Future<byte[]>> reads = new ArrayList<>();
                for (Digest digest : digests) {
                    reads.add(readers.submit(() -> readInOddPieces(client, digest)));
                }
                for (int i = 0; i < blobs.size(); i++) {
                    assertThat(reads.get(i).get(60, TimeUnit.SECONDS))
                            .as("blob %d", i)
                            .isEqualTo(blobs.get(i));
                }
            } finally {
                readers.shutdownNow();
            }
        }
    }

    @Test
    void aStreamClosedHalfwayGivesTheTransportItsBuffersBack() throws Exception {
        UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(true);
        try (CacheServer server = nettyServer()) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                    .usePlaintext()
                    .withOption(ChannelOption.ALLOCATOR, allocator)
                    .build();
            try {
                CacheClient client = new CacheClient(channel);
                Digest digest = client.upload(TestServers.randomBytes(64 * MiB, 4));
                long idle = allocator.metric().usedDirectMemory();
                InputStream in = client.open(digest);
                in.readNBytes(5 * MiB);
                waitFor(() -> allocator.metric().usedDirectMemory() - idle > 2 * MiB);
                assertThat(allocator.metric().usedDirectMemory() - idle)
                        .as("transport memory held for messages read ahead")
                        .isGreaterThan(2L * MiB);
                in.close();
                waitFor(() -> allocator.metric().usedDirectMemory() - idle < MiB);
                assertThat(allocator.metric().usedDirectMemory() - idle)
                        .as("transport memory still held after close")
                        .isLessThan((long) MiB);
                // The connection is still good for the next read.
                assertThat(client.readBytes(digest)).hasSize(64 * MiB);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private CacheServer nettyServer() throws Exception {
        HostPort listen = HostPort.parse("127.0.0.1:0");
        return new CacheServer(new CacheServerConfig(listen, dir), new SimpleMeterRegistry(), GrpcServers.netty(listen))
                .start();
    }

    private static byte[] readInOddPieces(CacheClient client, Digest digest) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] piece = new byte[77_777];
        try (InputStream in = client.open(digest)) {
            for (int n; (n = in.read(piece, 0, piece.length)) >= 0; ) {
                out.write(piece, 0, n);
            }
        }
        return out.toByteArray();
    }

    private static void waitFor(BooleanSupplier condition) {
        await().atMost(Duration.ofSeconds(10)).until(condition::getAsBoolean);
    }
}
