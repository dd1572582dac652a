package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.common.client.ClientSecurity;
import io.grpc.Status;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Which builds share the resident client's connections, and when they end. */
class FarmChannelsTest {

    private static final String FARM = "inprocess:farm-channels-test";

    @Test
    void buildsOfOneUserToOneFarmShareConnectionsThatOutliveThem() {
        try (FarmChannels channels = FarmChannels.kept()) {
            FarmChannels.Farm first = channels.open(FARM, ClientSecurity.NONE);
            first.close();
            FarmChannels.Farm second = channels.open(FARM, ClientSecurity.NONE);

            assertThat(second).isSameAs(first);
            assertThat(second.coordinator().isShutdown()).isFalse();
            assertThat(channels.open(FARM, ClientSecurity.token("another user's token")))
                    .as("another token never rides on these connections")
                    .isNotSameAs(first);
            second.close();
        }
    }

    @Test
    void anUnreachableFarmIsConnectedAfreshWithoutCuttingTheBuildsStillRunning() {
        try (FarmChannels channels = FarmChannels.kept()) {
            FarmChannels.Farm running = channels.open(FARM, ClientSecurity.NONE);
            FarmChannels.Farm failing = channels.open(FARM, ClientSecurity.NONE);

            failing.broken();
            failing.close();
            assertThat(running.coordinator().isShutdown())
                    .as("the other build keeps its connection")
                    .isFalse();
            FarmChannels.Farm next = channels.open(FARM, ClientSecurity.NONE);
            assertThat(next).as("the next build connects afresh").isNotSameAs(running);

            running.close();
            assertThat(running.coordinator().isShutdown())
                    .as("ended with the last build using it")
                    .isTrue();
            next.close();
            assertThat(next.coordinator().isShutdown()).as("kept").isFalse();
        }
    }

    @Test
    void aCommandOfItsOwnClosesItsConnectionsWhenItsBuildEnds() {
        FarmChannels.Farm farm = FarmChannels.perBuild().open(FARM, ClientSecurity.NONE);
        assertThat(farm.coordinator().isShutdown()).isFalse();
        farm.close();
        assertThat(farm.coordinator().isShutdown()).isTrue();
    }

    @Test
    void onlyAFarmThatCannotBeReachedIsDropped() {
        assertThat(FarmChannels.unreachable(Status.UNAVAILABLE.asRuntimeException()))
                .isTrue();
        assertThat(FarmChannels.unreachable(
                        new IOException("upload", new CacheException("gone", Status.Code.DEADLINE_EXCEEDED, null))))
                .isTrue();
        assertThat(FarmChannels.unreachable(Status.CANCELLED.asRuntimeException()))
                .as("Ctrl-C")
                .isFalse();
        assertThat(FarmChannels.unreachable(Status.RESOURCE_EXHAUSTED.asRuntimeException()))
                .as("a busy farm refused one build")
                .isFalse();
        assertThat(FarmChannels.unreachable(new IOException("a context file could not be read")))
                .isFalse();
    }
}
