package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.coordinator.schedule.JobDispatcher;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A farm whose autoscaler took every worker away (`--worker-wait 0`), through the real
 * coordinator service: the next build is told why it waits, and runs when a worker joins.
 */
class ScaleFromZeroTest {

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
                        Duration.ZERO,
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
    void aBuildOnAFarmWithoutWorkersIsToldWhyItWaitsAndRunsWhenOneJoins() throws Exception {
        List<BuildEvent> events = new CopyOnWriteArrayList<>();
        String context = uploadContext();
        CompletableFuture<Void> build = CompletableFuture.runAsync(() -> {
            Iterator<BuildEvent> it = CoordinatorGrpc.newBlockingStub(channel)
                    .build(BuildRequest.newBuilder()
                            .setDockerfile("FROM scratch\nCOPY a /a\n")
                            .setDockerfileName("Dockerfile")
                            .setContextDigest(context)
                            .build());
            it.forEachRemaining(events::add);
        });

        awaitUntil(() -> !notes(events).isEmpty(), "the line saying why the build waits");
        assertThat(notes(events)).containsExactly(JobDispatcher.NO_WORKERS);
        Thread.sleep(500); // longer than a zero-second bound would have let it live
        assertThat(build).as("the build waiting for a worker").isNotDone();
        assertThat(events).noneMatch(BuildEvent::hasError);

        FakeWorker worker = FakeWorker.connect("w1", 1, channel);
        Job job = worker.nextJob();
        worker.finish(job, "stage-key");

        build.get(10, TimeUnit.SECONDS);
        assertThat(events).noneMatch(BuildEvent::hasError);
        assertThat(events).anyMatch(BuildEvent::hasResult);
        assertThat(events)
                .filteredOn(e -> e.hasQueue() && !e.getQueue().getWorker().isEmpty())
                .extracting(e -> e.getQueue().getWorker())
                .containsExactly("w1");
        assertThat(notes(events)).as("said once").hasSize(1);
    }

    @Test
    void aClientThatGoesAwayWhileWaitingForAFirstWorkerTakesItsBuildOutOfTheQueue() throws Exception {
        List<BuildEvent> events = new CopyOnWriteArrayList<>();
        String context = uploadContext();
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        Iterator<BuildEvent> it = call.call(() -> CoordinatorGrpc.newBlockingStub(channel)
                .build(BuildRequest.newBuilder()
                        .setDockerfile("FROM scratch\nCOPY a /a\n")
                        .setDockerfileName("Dockerfile")
                        .setContextDigest(context)
                        .build()));
        CompletableFuture.runAsync(() -> {
            try {
                it.forEachRemaining(events::add);
            } catch (RuntimeException cancelled) {
                // the call's own cancellation
            }
        });
        awaitUntil(() -> !notes(events).isEmpty(), "the line saying why the build waits");

        call.cancel(null); // Ctrl-C

        FakeWorker worker = FakeWorker.connect("w1", 1, channel);
        worker.assertNoJobWithin(Duration.ofMillis(1500));
    }

    private static List<String> notes(List<BuildEvent> events) {
        return events.stream()
                .filter(BuildEvent::hasQueue)
                .map(e -> e.getQueue().getNote())
                .filter(n -> !n.isEmpty())
                .toList();
    }

    private static void awaitUntil(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for %s", what).isLessThan(deadline);
            Thread.sleep(20);
        }
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
}
