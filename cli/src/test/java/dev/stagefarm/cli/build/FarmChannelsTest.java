package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.coordinator.CoordinatorServer;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void aFarmRestartedWithAnotherCacheServerIsFollowedAtTheNextBuild(@TempDir Path dir) throws Exception {
        String coordinator = "inprocess:farm-channels-restarted";
        byte[] blob = "in the first farm's cache only".getBytes(StandardCharsets.UTF_8);
        try (FarmChannels channels = FarmChannels.kept();
                CacheServer firstCache = cacheServer(dir.resolve("first"), "farm-channels-cache-1");
                CacheServer secondCache = cacheServer(dir.resolve("second"), "farm-channels-cache-2")) {
            FarmChannels.Farm running;
            CacheClient old;
            try (CoordinatorServer first = coordinator(coordinator, "farm-channels-cache-1")) {
                running = channels.open(coordinator, ClientSecurity.NONE);
                old = running.cache();
                old.upload(blob);
            }
            // the same coordinator address, restarted with its cache-server elsewhere
            try (CoordinatorServer second = coordinator(coordinator, "farm-channels-cache-2")) {
                FarmChannels.Farm next = channels.open(coordinator, ClientSecurity.NONE);
                assertThat(next).as("the coordinator's own connection is kept").isSameAs(running);

                CacheClient now = next.cache();
                assertThat(now.findMissing(List.of(Digest.of(blob))))
                        .as("the next build asks the cache-server the coordinator names now")
                        .containsExactly(Digest.of(blob));
                assertThat(old.findMissing(List.of(Digest.of(blob))))
                        .as("a build still using the first cache-server's client keeps it")
                        .isEmpty();

                next.close();
                running.close();
                FarmChannels.Farm later = channels.open(coordinator, ClientSecurity.NONE);
                assertThat(later.cache())
                        .as("the builds that follow keep the new client")
                        .isSameAs(now);
                later.close();
            }
        }
    }

    private static CacheServer cacheServer(Path data, String name) throws IOException {
        return new CacheServer(
                        new CacheServerConfig(new HostPort("127.0.0.1", 0), data),
                        new SimpleMeterRegistry(),
                        GrpcChannels.inProcessServer(name))
                .start();
    }

    private static CoordinatorServer coordinator(String address, String cacheName) throws IOException {
        String cacheAddress = GrpcChannels.IN_PROCESS + cacheName;
        return new CoordinatorServer(
                        GrpcChannels.inProcessServer(address.substring(GrpcChannels.IN_PROCESS.length())),
                        CacheClient.connect(cacheAddress),
                        cacheAddress,
                        new RegistryClient(RegistryConfig.defaults(), CredentialStore.fromDockerConfig()),
                        Duration.ofSeconds(1),
                        new SimpleMeterRegistry())
                .start();
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
