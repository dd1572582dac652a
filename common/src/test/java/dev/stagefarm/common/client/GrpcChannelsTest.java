package dev.stagefarm.common.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.UnixSockets;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a command-line process relies on before it exits: no client event loop left waiting in select(2). */
class GrpcChannelsTest {

    private final HealthStatusManager health = new HealthStatusManager();

    @Test
    void stoppingTheClientThreadsStopsTheTcpLoopAndALaterChannelStillWorks() throws Exception {
        Server server = GrpcServers.netty("127.0.0.1:0")
                .addService(health.getHealthService())
                .build()
                .start();
        try {
            assertStopsAndRestarts("127.0.0.1:" + server.getPort(), "grpc-tcp-client");
        } finally {
            server.shutdownNow();
        }
    }

    @Test
    void stoppingTheClientThreadsStopsTheUnixSocketLoopAndALaterChannelStillWorks(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("farm.sock");
        Server server = UnixSockets.server(socket)
                .addService(health.getHealthService())
                .build()
                .start();
        try {
            assertStopsAndRestarts(GrpcChannels.UNIX + socket, "grpc-unix-client");
        } finally {
            server.shutdownNow();
        }
    }

    private static void assertStopsAndRestarts(String address, String threadName) {
        check(address);
        assertThat(threads(threadName)).isNotEmpty();

        GrpcChannels.stopClientThreads();
        // the loop has terminated when stop returns; its thread ends a moment later
        await().atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(threads(threadName)).isEmpty());

        check(address);
    }

    private static void check(String address) {
        ManagedChannel channel = GrpcChannels.open(address);
        try {
            assertThat(HealthGrpc.newBlockingStub(channel)
                            .check(HealthCheckRequest.getDefaultInstance())
                            .getStatus())
                    .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        } finally {
            channel.shutdownNow();
        }
    }

    private static List<Thread> threads(String namePrefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(namePrefix) && t.isAlive())
                .toList();
    }
}
