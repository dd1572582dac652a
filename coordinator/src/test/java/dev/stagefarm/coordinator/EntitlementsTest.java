package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.schedule.WorkerPool;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.CoordinatorMessage;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.RunOp;
import dev.stagefarm.proto.farm.Step;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EntitlementsTest {

    private static final Step PLAIN = run(2, "default");
    private static final Step HOST = run(3, "host");
    private static final BuildRequest ASKED =
            BuildRequest.newBuilder().addEntitlements("network.host").build();

    private final WorkerPool pool = new WorkerPool();

    @Test
    void stepsWithoutHostNetworkNeedNothing() {
        worker("w1");

        assertThat(Entitlements.refusedHostStep(BuildRequest.getDefaultInstance(), List.of(PLAIN), pool))
                .isEmpty();
    }

    @Test
    void hostNetworkIsRefusedWhenTheBuildDidNotAsk() {
        worker("w1", "network.host");

        assertThat(Entitlements.refusedHostStep(BuildRequest.getDefaultInstance(), List.of(PLAIN, HOST), pool))
                .contains(3);
    }

    @Test
    void hostNetworkIsRefusedWhenNoConnectedWorkerGrantsIt() {
        worker("w1");
        worker("w2");

        assertThat(Entitlements.refusedHostStep(ASKED, List.of(HOST), pool)).contains(3);
    }

    @Test
    void hostNetworkGoesOnlyToWorkersThatGrantIt() {
        worker("w1");
        worker("w2", "network.host");
        Job job = Job.newBuilder().addSteps(PLAIN).addSteps(HOST).build();

        assertThat(Entitlements.refusedHostStep(ASKED, List.of(HOST), pool)).isEqualTo(Optional.empty());
        assertThat(Entitlements.needed(job)).containsExactly("network.host");
        assertThat(Entitlements.needed(Job.newBuilder().addSteps(PLAIN).build()))
                .isEmpty();
    }

    @Test
    void theSentenceNamesBothFlags() {
        assertThat(Entitlements.HOST_REFUSED)
                .contains("worker with --allow network.host")
                .contains("build with --allow network.host");
    }

    private void worker(String name, String... granted) {
        pool.join(
                name,
                1,
                new StreamObserver<CoordinatorMessage>() {
                    @Override
                    public void onNext(CoordinatorMessage value) {}

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                },
                Set.of(granted),
                List.of());
    }

    private static Step run(int line, String network) {
        return Step.newBuilder()
                .setLine(line)
                .setRun(RunOp.newBuilder().addArgs("true").setNetwork(network))
                .build();
    }
}
