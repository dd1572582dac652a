package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.ReadResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadFlowControlTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void theServerSendsNoFasterThanTheClientAsks() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TestServers servers = TestServers.start(dir, registry)) {
            Digest digest = new CacheClient(servers.channel).upload(TestServers.randomBytes(32 * MiB, 30));
            double before = bytesOut(registry);

            ClientCall<ReadRequest, ReadResponse> call =
                    servers.channel.newCall(ContentStoreGrpc.getReadMethod(), CallOptions.DEFAULT);
            AtomicInteger received = new AtomicInteger();
            call.start(
                    new ClientCall.Listener<>() {
                        @Override
                        public void onMessage(ReadResponse message) {
                            received.incrementAndGet();
                        }
                    },
                    new Metadata());
            call.sendMessage(
                    ReadRequest.newBuilder().setDigest(digest.toString()).build());
            call.halfClose();
            call.request(2);

            await().atMost(Duration.ofSeconds(10)).until(() -> received.get() >= 2);
            // room for a server that ignores flow control to run ahead
            await().during(Duration.ofMillis(300))
                    .atMost(Duration.ofSeconds(1))
                    .untilAsserted(() -> assertThat(received).hasValue(2));
            assertThat(bytesOut(registry) - before)
                    .as("bytes the server produced for a client that took 2 MiB")
                    .isLessThanOrEqualTo(4.0 * MiB);
            call.cancel("enough", null);
        }
    }

    @Test
    void theFirstLineSaysEveryCallerIsAccepted() throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            TestServers.start(dir, new SimpleMeterRegistry()).close();
        } finally {
            System.setErr(stderr);
        }
        String firstLine =
                captured.toString(StandardCharsets.UTF_8).lines().findFirst().orElse("");
        assertThat(firstLine).endsWith(CacheServer.ANONYMOUS_ACCESS);
    }

    private static double bytesOut(SimpleMeterRegistry registry) {
        return registry.get("stagefarm.cache.bytes")
                .tag("direction", "out")
                .counter()
                .count();
    }
}
