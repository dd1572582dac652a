package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.cache.StepResult;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A build's action-cache lookups, against a real cache-server (RocksDB) over in-process gRPC. */
class StageLookupsTest {

    @TempDir
    Path dir;

    private CacheServer server;
    private ManagedChannel channel;
    private CacheClient cache;
    /** How often each key reached the cache-server. */
    private final Map<String, Integer> asked = new ConcurrentHashMap<>();
    /** Calls that reached the cache-server. */
    private final AtomicInteger calls = new AtomicInteger();

    private StageLookups lookups;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dir.resolve("cache"), 0, null),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(name))
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        cache = new CacheClient(channel);
        lookups = new StageLookups(keys -> {
            calls.incrementAndGet();
            keys.forEach(key -> asked.merge(key, 1, Integer::sum));
            return cache.getActions(keys);
        });
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    /** A step's result that names a layer by {@code out}'s digest. */
    private static ActionResult step(String out) {
        return ActionResult.newBuilder()
                .setStep(StepResult.newBuilder()
                        .setLayer(Layer.newBuilder()
                                .setDigest(Digest.of(out.getBytes(StandardCharsets.UTF_8))
                                        .toString())
                                .setSize(out.length())))
                .build();
    }

    @Test
    void aStageGetsEveryKeysAnswerHitsAndMisses() throws IOException {
        cache.putAction("step-1", step("one"));
        cache.putAction("step-3", step("three"));

        StageLookups.Answers found = lookups.lookUp(List.of("step-1", "step-2", "step-3", "export"));

        assertThat(found.get("step-1")).contains(step("one"));
        assertThat(found.get("step-2")).isEmpty();
        assertThat(found.get("step-3")).contains(step("three"));
        assertThat(found.get("export")).isEmpty();
        assertThat(found.get("a key nobody asked")).isEmpty();
        assertThat(asked).containsOnlyKeys("step-1", "step-2", "step-3", "export");
        assertThat(calls)
                .as("a stage's keys go to the cache-server in one call")
                .hasValue(1);
    }

    @Test
    void aHitIsAskedOnceForTheWholeBuildAMissAgainUntilItIsStored() throws IOException {
        cache.putAction("shared", step("shared"));

        lookups.lookUp(List.of("shared", "later"));
        cache.putAction("later", step("stored by a stage of this build"));
        StageLookups.Answers second = lookups.lookUp(List.of("shared", "later", "shared"));

        assertThat(second.get("shared")).contains(step("shared"));
        assertThat(second.get("later")).contains(step("stored by a stage of this build"));
        assertThat(asked).containsEntry("shared", 1).containsEntry("later", 2);
        lookups.lookUp(List.of("later"));
        assertThat(asked).containsEntry("later", 2);
    }

    @Test
    void anUnreachableCacheServerFailsTheLookupWithAnIoException() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

        assertThatThrownBy(() -> lookups.lookUp(List.of("a", "b"))).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> lookups.lookUp(List.of("a"))).isInstanceOf(IOException.class);
    }

    @Test
    void noKeysAskNothing() throws IOException {
        assertThat(lookups.lookUp(List.of()).byKey()).isEmpty();
        assertThat(lookups.lookUp(List.of()).get("x")).isEqualTo(Optional.empty());
        assertThat(asked).isEmpty();
    }
}
