package dev.stagefarm.cacheclient;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.cache.ActionCacheGrpc;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.GetActionResultRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Many action keys at once against a cache-server from before GetActionResults (a farm upgraded
 * one part at a time): the client asks key by key and gets the same answers.
 */
class ActionLookupsTest {

    private static final ActionResult STORED = ActionResult.newBuilder()
            .setArtifact(ArtifactResult.newBuilder().setDigest("sha256:" + "a".repeat(64)))
            .build();

    /** Implements GetActionResult only, as cache-servers did before the batch call. */
    private final Map<String, Integer> asked = new ConcurrentHashMap<>();

    private final ActionCacheGrpc.ActionCacheImplBase older = new ActionCacheGrpc.ActionCacheImplBase() {
        @Override
        public void getActionResult(GetActionResultRequest request, StreamObserver<ActionResult> response) {
            asked.merge(request.getKey(), 1, Integer::sum);
            if (request.getKey().equals("stored")) {
                response.onNext(STORED);
                response.onCompleted();
            } else {
                response.onError(Status.NOT_FOUND.asRuntimeException());
            }
        }
    };

    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(older).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void anOlderCacheServerIsAskedKeyByKeyWithTheSameAnswers() throws Exception {
        var found = new CacheClient(channel).getActions(List.of("stored", "unknown", "stored"));

        assertThat(found)
                .containsExactly(Map.entry("stored", Optional.of(STORED)), Map.entry("unknown", Optional.empty()));
        assertThat(asked).containsExactlyInAnyOrderEntriesOf(Map.of("stored", 1, "unknown", 1));
    }
}
