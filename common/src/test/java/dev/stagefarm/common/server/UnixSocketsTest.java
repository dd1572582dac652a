package dev.stagefarm.common.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.client.GrpcChannels;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketsTest {

    @Test
    void aClientReachesAServerThroughASocketFile(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("farm.sock");
        HealthStatusManager health = new HealthStatusManager();
        Server server = UnixSockets.server(socket)
                .addService(health.getHealthService())
                .build()
                .start();
        ManagedChannel channel = GrpcChannels.open(GrpcChannels.UNIX + socket);
        try {
            HealthCheckResponse answer =
                    HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
            assertThat(answer.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }
}
