package dev.stagefarm.common.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The team header a farm component's calls carry: fixed per build, or from the running job. */
class TeamChannelTest {

    private final AtomicReference<String> seen = new AtomicReference<>();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        ServerInterceptor record = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                seen.set(headers.get(AuthInterceptor.TEAM));
                return next.startCall(call, headers);
            }
        };
        server = InProcessServerBuilder.forName(name)
                .addService(ServerInterceptors.intercept(new HealthStatusManager().getHealthService(), record))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    private String call(Channel through) {
        seen.set("<none>");
        HealthGrpc.newBlockingStub(through).check(HealthCheckRequest.getDefaultInstance());
        return seen.get();
    }

    @Test
    void aBoundChannelAlwaysActsForItsTeam() {
        assertThat(call(TeamChannel.bind(channel, "team-a"))).isEqualTo("team-a");
        assertThat(call(TeamChannel.bind(channel, "")))
                .as("a farm without tokens sends nothing")
                .isNull();
    }

    @Test
    void aJobsCallsCarryItsTeamAndCallsOutsideAJobFailWhenRequired() throws Exception {
        Channel jobs = TeamChannel.fromContext(channel, true);
        assertThat(TeamChannel.callAs("team-b", () -> call(jobs))).isEqualTo("team-b");
        assertThat(TeamChannel.callAs("", () -> call(jobs))).isNull();
        assertThatThrownBy(() -> call(jobs))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("called outside a job, so it has no team to act for");
        assertThat(call(TeamChannel.fromContext(channel, false)))
                .as("an open farm needs no team")
                .isNull();
    }
}
