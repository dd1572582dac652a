package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import io.grpc.Channel;
import io.grpc.Context;
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

    private InProcessFarm farm;
    private Channel channel;

    @BeforeEach
    void start() throws Exception {
        farm = InProcessFarm.open(dir);
        channel = farm.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        farm.close();
    }

    @Test
    void aFailingStageFailsTheBuildAtOnceAndStopsTheOtherStages() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", 2, channel);
        CompletableFuture<String> build = farm.submit(null, InProcessFarm.request(TWO_BRANCHES, farm.uploadContext()));
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
        String context = farm.uploadContext();
        Iterator<BuildEvent> events = call.call(
                () -> CoordinatorGrpc.newBlockingStub(channel).build(InProcessFarm.request(TWO_BRANCHES, context)));
        CompletableFuture.runAsync(() -> events.forEachRemaining(e -> {}));
        Job running = worker.nextJob(); // the other branch waits in the queue: one slot

        call.cancel(null);

        assertThat(worker.nextCancel(Duration.ofSeconds(2))).isEqualTo(running.getJobId());
        worker.fail(running, "RUN: cancelled");
        worker.assertNoJobWithin(Duration.ofMillis(500)); // the queued branch left the queue too
    }
}
