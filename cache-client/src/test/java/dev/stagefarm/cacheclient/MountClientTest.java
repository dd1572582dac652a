package dev.stagefarm.cacheclient;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.cache.CacheMountsGrpc;
import dev.stagefarm.proto.cache.MountSharing;
import dev.stagefarm.proto.cache.UseMountRequest;
import dev.stagefarm.proto.cache.UseMountResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Shared cache mounts while the cache-server restarts: a step waits for it instead of failing. */
class MountClientTest {

    /** Grants every use at once, as a SHARED mount is. */
    private static final class Mounts extends CacheMountsGrpc.CacheMountsImplBase {
        @Override
        public StreamObserver<UseMountRequest> use(StreamObserver<UseMountResponse> responses) {
            return new StreamObserver<>() {
                @Override
                public void onNext(UseMountRequest request) {
                    responses.onNext(UseMountResponse.newBuilder()
                            .setGranted(UseMountResponse.Granted.newBuilder()
                                    .setUseId("use-1")
                                    .setPublishes(true))
                            .build());
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onCompleted();
                }
            };
        }
    }

    @Test
    void aUseOpenedWhileTheServerIsAwayIsGrantedOnceItIsBack() throws Exception {
        String name = "cache-" + UUID.randomUUID();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        MountClient mounts = new MountClient(channel, channel::resetConnectBackoff);
        CompletableFuture<Server> back = new CompletableFuture<>();
        // the server comes back after the client's first attempts have failed
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(1_500);
                back.complete(InProcessServerBuilder.forName(name)
                        .addService(new Mounts())
                        .build()
                        .start());
            } catch (Exception e) {
                back.completeExceptionally(e);
            }
        });
        try (MountUse use =
                mounts.use("go-build", MountSharing.MOUNT_SHARING_SHARED, ahead -> {}, Duration.ofSeconds(30))) {
            assertThat(use.useId()).isEqualTo("use-1");
            assertThat(use.publishes()).isTrue();
        } finally {
            back.get(30, TimeUnit.SECONDS).shutdownNow();
            channel.shutdownNow();
        }
    }
}
