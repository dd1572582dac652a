package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.PendingStore;
import dev.stagefarm.proto.farm.WorkerInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job may report before its last layer is stored ({@code Job.layers_unneeded}) only when no
 * stage of its build takes its layers; a build that looks that step up meanwhile waits until the
 * worker says it is stored, instead of finding it missing and running it again.
 */
class ResultBeforeStoreTest {

    private static final String COPIED_ONLY = """
            FROM scratch AS tools
            RUN make-tools
            FROM scratch
            COPY --from=tools /t /t
            """;

    @TempDir
    Path dir;

    private InProcessFarm farm;
    private FakeWorker worker;
    private String context;

    @BeforeEach
    void start() throws Exception {
        farm = InProcessFarm.open(dir);
        worker = FakeWorker.connect("w1", 3, farm.channel());
        context = farm.uploadContext();
    }

    @AfterEach
    void stop() throws InterruptedException {
        farm.close();
    }

    @Test
    void aStageOnlyCopiedFromMayReportEarlyAndAStageBuiltOrMountedFromMayNot() throws Exception {
        farm.submit(null, InProcessFarm.request("""
                FROM scratch AS tools
                RUN make-tools
                FROM scratch AS base
                RUN make-base
                FROM scratch AS mounted
                RUN make-mounted
                FROM base
                COPY --from=tools /t /t
                RUN --mount=from=mounted,source=/m,target=/m use-m
                """, context));

        Map<String, Job> byStage = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            Job job = worker.nextJob();
            byStage.put(job.getStageName(), job);
        }

        assertThat(byStage.get("tools").getLayersUnneeded()).isTrue();
        assertThat(byStage.get("base").getLayersUnneeded()).isFalse();
        // a mount is served from the snapshots the worker keeps once the layer is stored
        assertThat(byStage.get("mounted").getLayersUnneeded()).isFalse();
    }

    @Test
    void theImageStageNeverReportsEarly() throws Exception {
        farm.submit(null, InProcessFarm.request("FROM scratch\nRUN make-image\n", context));

        assertThat(worker.nextJob().getLayersUnneeded()).isFalse();
    }

    @Test
    void aBuildThatLooksUpAStepBeingStoredWaitsUntilTheWorkerSaysItIsStored() throws Exception {
        farm.submit(null, InProcessFarm.request(COPIED_ONLY, context));
        Job tools = worker.nextJob();
        assertThat(tools.getLayersUnneeded()).isTrue();
        worker.reportBeforeStore(tools);
        Job image = worker.nextJob();
        assertThat(image.getStageName())
                .as("the first build goes on with the result")
                .isNotEqualTo("tools");

        farm.submit(null, InProcessFarm.request(COPIED_ONLY, context));
        worker.assertNoJobWithin(Duration.ofSeconds(1)); // its lookup of "make-tools" waits

        worker.layersStored(tools, true);
        // this fake stored nothing, so the lookup now misses and the stage is sent
        Job again = worker.nextJob();
        assertThat(again.getStageName()).isEqualTo("tools");
        assertThat(again.getBuildId()).isNotEqualTo(tools.getBuildId());
    }

    /**
     * A worker whose stream broke (or whose coordinator restarted) while it stored such a step
     * names the store in its next hello: lookups of the step wait for it again.
     */
    @Test
    void aStoreStillUnderWayWhenTheWorkerReconnectsHoldsLookupsAgain() throws Exception {
        var firstBuild = farm.submit(null, InProcessFarm.request(COPIED_ONLY, context));
        Job tools = worker.nextJob();
        worker.reportBeforeStore(tools);
        Job image = worker.nextJob();
        worker.finish(image, image.getStageKey());
        firstBuild.get(10, TimeUnit.SECONDS); // its last job is not lost with the stream below
        worker.die(); // the coordinator stops waiting for the stores of a worker it lost
        await().atMost(Duration.ofSeconds(10)).until(() -> workers().isEmpty());

        FakeWorker back = FakeWorker.connectStoring(
                "w1",
                3,
                farm.channel(),
                List.of(PendingStore.newBuilder()
                        .setJobId(tools.getJobId())
                        .setTeam(tools.getTeam())
                        .setStepKey(tools.getSteps(0).getKey())
                        .build()));
        await().atMost(Duration.ofSeconds(10)).until(() -> workers().contains("w1"));
        farm.submit(null, InProcessFarm.request(COPIED_ONLY, context));
        back.assertNoJobWithin(Duration.ofSeconds(1)); // its lookup of "make-tools" waits

        back.layersStored(tools, true);
        Job again = back.nextJob(); // this fake stored nothing: the lookup misses
        assertThat(again.getStageName()).isEqualTo("tools");
        assertThat(again.getBuildId()).isNotEqualTo(tools.getBuildId());
    }

    private List<String> workers() {
        return CoordinatorGrpc.newBlockingStub(farm.channel())
                .listWorkers(ListWorkersRequest.getDefaultInstance())
                .getWorkersList()
                .stream()
                .map(WorkerInfo::getName)
                .toList();
    }
}
