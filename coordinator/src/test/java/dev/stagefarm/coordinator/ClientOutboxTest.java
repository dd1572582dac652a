package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.stagefarm.common.testing.PausedBuildClient;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.LogLine;
import dev.stagefarm.proto.farm.StepEvent;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A build's client that stops reading costs the coordinator at most 8 MiB, and still hears how the build went. */
class ClientOutboxTest {

    private static final int CHUNK = 32 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final AtomicLong farmPending = new AtomicLong();
    private final CompletableFuture<ClientOutbox> outbox = new CompletableFuture<>();
    private PausedBuildClient client;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .addService(new CoordinatorGrpc.CoordinatorImplBase() {
                    @Override
                    public void build(BuildRequest request, StreamObserver<BuildEvent> responses) {
                        var box = new ClientOutbox(
                                (ServerCallStreamObserver<BuildEvent>) responses,
                                ClientOutbox.MAX_PENDING_BYTES,
                                farmPending);
                        box.buildId("b-42");
                        outbox.complete(box);
                    }
                })
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        client = PausedBuildClient.submit(channel, BuildRequest.getDefaultInstance());
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void aClientThatDoesNotReadHoldsAtMostTheLimitAndStillGetsTheBuildsEnd() throws Exception {
        ClientOutbox box = outbox.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        box.send(step(StepEvent.Status.STARTED));
        long sent = 0;
        for (int i = 0; i < 400; i++) { // 12.5 MiB of output
            box.send(chunk(i));
            sent += CHUNK;
            assertThat(farmPending.get())
                    .as("pending after %d bytes of output", sent)
                    .isLessThanOrEqualTo(ClientOutbox.MAX_PENDING_BYTES + CHUNK);
        }
        box.send(step(StepEvent.Status.DONE));
        box.send(BuildEvent.newBuilder()
                .setResult(BuildResult.getDefaultInstance())
                .build());
        box.complete();
        assertThat(box.pendingBytes()).isGreaterThan(ClientOutbox.MAX_PENDING_BYTES - 2L * CHUNK);
        assertThat(client.received()).as("nothing read yet").isEmpty();

        client.readAll(); // the client reads again
        List<BuildEvent> received = client.awaitEnd(WAIT);
        assertThat(client.completed()).isTrue();

        assertThat(received.getFirst().getStep().getStatus()).isEqualTo(StepEvent.Status.STARTED);
        assertThat(received.get(received.size() - 2).getStep().getStatus()).isEqualTo(StepEvent.Status.DONE);
        assertThat(received.getLast().hasResult()).isTrue();
        List<String> notes = received.stream()
                .filter(e -> e.hasLog() && !e.getLog().getText().isEmpty())
                .map(e -> e.getLog().getText())
                .toList();
        assertThat(notes).hasSize(1);
        assertThat(notes.getFirst()).contains("`stagefarm builds logs b-42`");
        // the output kept is the first part, in order, up to the note
        List<BuildEvent> chunks = received.stream()
                .filter(e -> e.hasLog() && !e.getLog().getData().isEmpty())
                .toList();
        assertThat(chunks).hasSizeBetween(200, 256);
        for (int i = 0; i < chunks.size(); i++) {
            assertThat(chunks.get(i).getLog().getData().byteAt(0)).isEqualTo((byte) i);
        }
        assertThat(farmPending.get()).isZero();
    }

    @Test
    void aClientThatGoesAwayLeavesNothingPending() throws Exception {
        ClientOutbox box = outbox.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        for (int i = 0; i < 100; i++) {
            box.send(chunk(i));
        }
        assertThat(farmPending.get()).isGreaterThan(0);

        client.cancel();
        client.awaitEnd(WAIT);
        // the server hears of the cancel asynchronously; the next event finds it
        await().atMost(WAIT).untilAsserted(() -> {
            box.send(chunk(0));
            assertThat(farmPending.get()).isZero();
        });
    }

    private static BuildEvent step(StepEvent.Status status) {
        return BuildEvent.newBuilder()
                .setStep(StepEvent.newBuilder().setStepIndex(1).setStatus(status))
                .build();
    }

    private static BuildEvent chunk(int i) {
        byte[] data = new byte[CHUNK];
        data[0] = (byte) i;
        return BuildEvent.newBuilder()
                .setLog(LogLine.newBuilder().setStepIndex(1).setData(ByteString.copyFrom(data)))
                .build();
    }
}
