package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.coordinator.schedule.JobDispatcher;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import io.grpc.Channel;
import io.grpc.Context;
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

    private InProcessFarm farm;
    private Channel channel;

    @BeforeEach
    void start() throws Exception {
        farm = InProcessFarm.open(dir, Duration.ZERO);
        channel = farm.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        farm.close();
    }

    @Test
    void aBuildOnAFarmWithoutWorkersIsToldWhyItWaitsAndRunsWhenOneJoins() throws Exception {
        List<BuildEvent> events = new CopyOnWriteArrayList<>();
        String context = farm.uploadContext();
        CompletableFuture<Void> build = CompletableFuture.runAsync(() -> {
            Iterator<BuildEvent> it = CoordinatorGrpc.newBlockingStub(channel)
                    .build(BuildRequest.newBuilder()
                            .setDockerfile("FROM scratch\nCOPY a /a\n")
                            .setDockerfileName("Dockerfile")
                            .setContextDigest(context)
                            .build());
            it.forEachRemaining(events::add);
        });

        await("the line saying why the build waits")
                .atMost(Duration.ofSeconds(10))
                .until(() -> !notes(events).isEmpty());
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
        String context = farm.uploadContext();
        Context.CancellableContext call = Context.current().withCancellation();
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
        await("the line saying why the build waits")
                .atMost(Duration.ofSeconds(10))
                .until(() -> !notes(events).isEmpty());

        call.cancel(null); // Ctrl-C
        // the cancellation reaches the coordinator asynchronously, as over a real network
        await("the build cancelled")
                .atMost(Duration.ofSeconds(5))
                .until(() -> CoordinatorGrpc.newBlockingStub(channel)
                        .listBuilds(ListBuildsRequest.newBuilder()
                                .setIncludeFinished(true)
                                .build())
                        .getBuildsList()
                        .stream()
                        .anyMatch(b -> b.getState() == BuildSummary.State.CANCELLED));

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
}
