package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build ends as soon as it cannot succeed or nobody waits for it: its other jobs leave the
 * queue or are stopped on their workers (CancelJob), through the real coordinator service.
 */
class BuildCancelTest {

    /** Two independent stages (both run at once on a 2-slot worker) and a final one copying from both. */
    private static final String TWO_BRANCHES = """
            FROM scratch AS left
            COPY a /left
            FROM scratch AS right
            COPY a /right
            FROM scratch
            COPY --from=left /left /left
            COPY --from=right /right /right
            """;

    @TempDir
    Path dir;

    private CacheServer cache;
    private ManagedChannel cacheChannel;
    private CoordinatorServer coordinator;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        String cacheName = InProcessServerBuilder.generateName();
        cache = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dir.resolve("cache"), 0),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(cacheName))
                .start();
        cacheChannel = InProcessChannelBuilder.forName(cacheName).build();
        String name = InProcessServerBuilder.generateName();
        coordinator = new CoordinatorServer(
                        InProcessServerBuilder.forName(name),
                        new CacheClient(cacheChannel),
                        "cache",
                        new RegistryClient(RegistryConfig.defaults(), CredentialStore.none()),
                        Duration.ofSeconds(20),
                        new SimpleMeterRegistry())
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        coordinator.close();
        cacheChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        cache.close();
    }

    @Test
    void aFailingStageFailsTheBuildAtOnceAndStopsTheOtherStages() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", 2, channel);
        CompletableFuture<String> build = submit(request(uploadContext()));
        Job one = worker.nextJob();
        Job other = worker.nextJob();

        worker.fail(one, "RUN false: exit code 1");

        assertThat(build.get(5, TimeUnit.SECONDS))
                .as("the error reaches the client while the other stage still runs")
                .isEqualTo("RUN false: exit code 1");
        assertThat(worker.nextCancel(Duration.ofSeconds(2))).isEqualTo(other.getJobId());
    }

    @Test
    void aClientThatGoesAwayCancelsItsBuild() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", 1, channel);
        Context.CancellableContext call = Context.current().withCancellation();
        String context = uploadContext();
        Iterator<BuildEvent> events =
                call.call(() -> CoordinatorGrpc.newBlockingStub(channel).build(request(context)));
        CompletableFuture.runAsync(() -> events.forEachRemaining(e -> {}));
        Job running = worker.nextJob(); // the other branch waits in the queue: one slot

        call.cancel(null);

        assertThat(worker.nextCancel(Duration.ofSeconds(2))).isEqualTo(running.getJobId());
        worker.fail(running, "RUN: cancelled");
        worker.assertNoJobWithin(Duration.ofMillis(500)); // the queued branch left the queue too
    }

    private String uploadContext() throws Exception {
        CacheClient client = new CacheClient(cacheChannel);
        byte[] file = "hello\n".getBytes();
        Digest fileDigest = client.upload(file);
        ContextManifest manifest = ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath("a")
                        .setType(ContextEntry.Type.FILE)
                        .setMode(0644)
                        .setSize(file.length)
                        .setDigest(fileDigest.toString()))
                .build();
        return client.upload(manifest.toByteArray()).toString();
    }

    private static BuildRequest request(String context) {
        return BuildRequest.newBuilder()
                .setDockerfile(TWO_BRANCHES)
                .setDockerfileName("Dockerfile")
                .setContextDigest(context)
                .setWantImage(true)
                .build();
    }

    /** Runs a build in the background; completes with its error message, or "" when it ends without one. */
    private CompletableFuture<String> submit(BuildRequest request) {
        return CompletableFuture.supplyAsync(() -> {
            Iterator<BuildEvent> events =
                    CoordinatorGrpc.newBlockingStub(channel).build(request);
            while (events.hasNext()) {
                BuildEvent e = events.next();
                if (e.hasError()) {
                    return e.getError().getMessage();
                }
            }
            return "";
        });
    }
}
