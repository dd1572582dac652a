package dev.stagefarm.cacheserver;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.WriteRequest;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real client against the real server, with the network failing the first upload midway. */
class ClientResumeTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void theClientResumesABrokenUploadWhereTheServerLeftOff() throws Exception {
        BreakFirstWrite breaker = new BreakFirstWrite(4);
        byte[] data = randomBytes(6 * MiB + 5, 10);
        Path file = dir.resolve("blob");
        Files.write(file, data);
        Digest digest = Digest.of(data);

        try (TestServers servers = TestServers.start(dir.resolve("data"), new SimpleMeterRegistry(), breaker)) {
            CacheClient client = new CacheClient(servers.channel);
            client.upload(digest, data.length, file);

            assertThat(breaker.broke).isTrue();
            // The second Write started where the first left durable chunks, not at 0.
            assertThat(breaker.firstOffsets).hasSize(2);
            assertThat(breaker.firstOffsets.get(0)).isZero();
            assertThat(breaker.firstOffsets.get(1)).isPositive().isLessThanOrEqualTo(4L * MiB);
            assertThat(client.readBytes(digest)).isEqualTo(data);
        }
    }

    /** Fails the first Write call with UNAVAILABLE after it has delivered {@code messages} messages. */
    static final class BreakFirstWrite implements ServerInterceptor {

        private final int messages;
        final AtomicBoolean broke = new AtomicBoolean();
        final List<Long> firstOffsets = new CopyOnWriteArrayList<>();

        BreakFirstWrite(int messages) {
            this.messages = messages;
        }

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            ServerCall.Listener<Q> delegate = next.startCall(call, headers);
            if (!call.getMethodDescriptor().equals(ContentStoreGrpc.getWriteMethod())) {
                return delegate;
            }
            boolean breakThis = broke.compareAndSet(false, true);
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
                private int seen;
                private boolean broken;

                @Override
                public void onMessage(Q message) {
                    if (broken) {
                        return;
                    }
                    if (seen++ == 0) {
                        firstOffsets.add(((WriteRequest) message).getOffset());
                    }
                    super.onMessage(message);
                    if (breakThis && seen == messages) {
                        broken = true;
                        call.close(Status.UNAVAILABLE.withDescription("injected network failure"), new Metadata());
                        // What the service sees when the connection drops.
                        super.onCancel();
                    }
                }

                @Override
                public void onHalfClose() {
                    if (!broken) {
                        super.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    if (!broken) {
                        super.onCancel();
                    }
                }

                @Override
                public void onComplete() {
                    if (!broken) {
                        super.onComplete();
                    }
                }
            };
        }
    }
}
