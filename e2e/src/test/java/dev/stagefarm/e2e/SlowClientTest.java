package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.common.testing.PausedBuildClient;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.StepEvent;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build's client that stops reading (a stopped terminal, a slow link) while its build prints 24
 * MiB: the coordinator holds at most 8 MiB and a chunk for it, drops the rest with one note, and
 * the client still hears every step's end and the result when it reads again.
 */
@Tag("e2e")
class SlowClientTest {

    private static final long LIMIT = 8L * 1024 * 1024;
    /** One output chunk (32 KiB) and the few small state events, which are never dropped. */
    private static final long SLACK = 64L * 1024;

    private static final String PENDING = "stagefarm_client_pending_bytes";

    @TempDir
    Path dir;

    @Test
    void aClientThatDoesNotReadCostsTheCoordinatorAtMostItsLimitAndStillHearsTheEnd() throws Exception {
        // twelve steps, each clipped at 2 MiB by the worker: 24 MiB of output in all, 8 MiB more than the
        // client's HTTP/2 window (8 MiB, GrpcChannels) and the coordinator's limit hold together
        StringBuilder dockerfile = new StringBuilder("FROM busybox\n");
        for (String word : List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l")) {
            dockerfile.append("RUN yes ").append(word).append(" | head -c 3000000\n");
        }
        try (Farm farm = new Farm(dir, "w1")) {
            ManagedChannel channel = GrpcChannels.open(farm.coordinator, ClientSecurity.NONE);
            CacheClient cache = CacheClient.connect(farm.cache);
            try {
                // the build needs no file, but every build names its context in the cache, as the CLI's does
                Digest context =
                        cache.upload(ContextManifest.getDefaultInstance().toByteArray());
                PausedBuildClient client = PausedBuildClient.submit(
                        channel,
                        BuildRequest.newBuilder()
                                .setDockerfile(dockerfile.toString())
                                .setDockerfileName("Dockerfile")
                                .setContextDigest(context.toString())
                                .setNoCache(true)
                                .build());

                AtomicLong mostPending = new AtomicLong();
                BuildSummary build = await("the build ends on the coordinator while its client reads nothing")
                        .atMost(Duration.ofMinutes(10))
                        .pollInterval(Duration.ofMillis(100))
                        .until(
                                () -> {
                                    mostPending.accumulateAndGet(pending(farm), Math::max);
                                    return only(channel);
                                },
                                b -> b != null && b.getState().getNumber() > BuildSummary.State.RUNNING_VALUE);
                mostPending.accumulateAndGet(pending(farm), Math::max);
                System.out.printf(
                        "---- slow client: the coordinator held at most %d bytes for it (limit %d)%n",
                        mostPending.get(), LIMIT);

                assertThat(build.getState()).as(build.getError()).isEqualTo(BuildSummary.State.SUCCEEDED);
                assertThat(mostPending.get())
                        .as("bytes the coordinator held for the client at most")
                        .isLessThanOrEqualTo(LIMIT + SLACK)
                        .as("the client really stopped reading: the coordinator's buffer filled")
                        .isGreaterThan(LIMIT - SLACK);

                client.readAll(); // the client reads again
                List<BuildEvent> received = client.awaitEnd(Duration.ofMinutes(2));
                assertThat(client.completed())
                        .as("the stream ends as a build's does")
                        .isTrue();

                assertThat(received.stream()
                                .filter(e -> e.hasStep() && e.getStep().getStatus() == StepEvent.Status.DONE)
                                .count())
                        .as("every step's end: the FROM's and the 12 RUNs'")
                        .isEqualTo(13);
                assertThat(received.getLast().hasResult())
                        .as("the last event is the result")
                        .isTrue();
                List<String> notes = received.stream()
                        .filter(e -> e.hasLog() && e.getLog().getStageIndex() < 0)
                        .map(e -> e.getLog().getText())
                        .toList();
                assertThat(notes).hasSize(1);
                assertThat(notes.getFirst()).contains("`stagefarm builds logs " + build.getBuildId() + "`");
                await("nothing pending once the client has read it all")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> pending(farm) == 0);
            } finally {
                cache.close();
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    private static long pending(Farm farm) throws Exception {
        String scrape = farm.coordinatorMetrics();
        assertThat(scrape).contains(PENDING);
        return scrape.lines()
                .filter(l -> l.startsWith(PENDING + " ") || l.startsWith(PENDING + "{"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    /** The farm's one build, as {@code stagefarm builds --all} lists it; null before it is listed. */
    private static BuildSummary only(ManagedChannel channel) {
        List<BuildSummary> builds = CoordinatorGrpc.newBlockingStub(channel)
                .listBuilds(
                        ListBuildsRequest.newBuilder().setIncludeFinished(true).build())
                .getBuildsList();
        return builds.isEmpty() ? null : builds.getFirst();
    }
}
