package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.cache.StepResult;
import dev.stagefarm.proto.farm.BuildLogsRequest;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.LogLine;
import dev.stagefarm.proto.farm.StageTimeline;
import dev.stagefarm.proto.farm.StepEvent;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two builds that need the same steps of a stage in different ways (one copies files from it,
 * one builds FROM it: `--target test` beside the full build) are different work, yet the steps
 * run once: the later build waits for the run under way and then finds them in the cache.
 */
class SharedStageRunsTest {

    /** Copies from "tools": its job exports /t and reports before its layer is stored. */
    private static final String COPIES = """
            FROM scratch AS tools
            RUN make-tools
            FROM scratch
            COPY --from=tools /t /t
            """;

    /** Builds FROM "tools": its job exports nothing and stores its layer before it reports. */
    private static final String BUILDS_FROM = """
            FROM scratch AS tools
            RUN make-tools
            FROM tools
            RUN use-tools
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
    void aBuildThatBuildsFromTheStageWaitsForTheCopyingBuildsRunAndStartsFromTheLayerItStored() throws Exception {
        farm.submit(null, InProcessFarm.request(COPIES, context));
        Job tools = worker.nextJob();
        assertThat(tools.getLayersUnneeded()).isTrue();
        farm.submit(null, InProcessFarm.request(BUILDS_FROM, context));
        worker.assertNoJobWithin(Duration.ofSeconds(1)); // no second run of make-tools

        worker.reportBeforeStore(tools);
        assertThat(worker.nextJob().getBuildId()).isEqualTo(tools.getBuildId()); // its final stage
        worker.assertNoJobWithin(Duration.ofSeconds(1)); // the layer is not stored yet

        Layer layer = store(tools.getSteps(0).getKey());
        worker.layersStored(tools, true);

        Job next = worker.nextJob();
        assertThat(next.getBuildId()).isNotEqualTo(tools.getBuildId());
        assertThat(next.getStageName())
                .as("the waiting build found make-tools cached")
                .isNotEqualTo("tools");
        assertThat(next.getBase().getLayersList()).containsExactly(layer);
    }

    /**
     * While it waits, the build's user sees the other build's run of the steps under the build's
     * own stage (its index and name), and the steps end as done, not as cached a second time.
     */
    @Test
    void aWaitingBuildShowsTheRunsStepsUnderItsOwnStage() throws Exception {
        farm.submit(null, InProcessFarm.request(COPIES, context));
        Job tools = worker.nextJob();
        List<StepEvent> seen = new CopyOnWriteArrayList<>();
        farm.submit(null, InProcessFarm.request("""
                        FROM scratch AS unused
                        RUN not-built
                        FROM scratch AS toolbox
                        RUN make-tools
                        FROM toolbox
                        RUN use-tools
                        """, context), e -> {
            if (e.hasStep()) {
                seen.add(e.getStep());
            }
        });
        worker.assertNoJobWithin(Duration.ofSeconds(1)); // it waits for tools' run

        worker.report(step(tools, StepEvent.Status.STARTED));
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(seen)
                        .extracting(StepEvent::getStageIndex, StepEvent::getStageName, StepEvent::getDescription)
                        .containsExactly(tuple(1, "toolbox", "[toolbox 2/2] RUN make-tools")));
        worker.report(step(tools, StepEvent.Status.DONE));
        worker.reportBeforeStore(tools);
        worker.nextJob(); // the copying build's final stage
        store(tools.getSteps(0).getKey());
        worker.layersStored(tools, true);

        Job useTools = worker.nextJob();
        assertThat(useTools.getBuildId()).isNotEqualTo(tools.getBuildId());
        // the client hears the build's events in order: once use-tools' start is in, so is all before it
        worker.report(step(useTools, StepEvent.Status.STARTED));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> seen.stream().anyMatch(e -> e.getStageIndex() == useTools.getStageIndex()));
        assertThat(seen)
                .filteredOn(e -> e.getStageIndex() == 1 && e.getStepIndex() == 1)
                .as("make-tools, as the waiting build's user sees it")
                .extracting(StepEvent::getStatus)
                .containsExactly(StepEvent.Status.STARTED, StepEvent.Status.DONE);
        assertThat(seen)
                .filteredOn(e -> e.getStageIndex() == 1 && e.getStepIndex() == 0)
                .extracting(StepEvent::getStatus)
                .as("its FROM, which the run did not report, is cached")
                .containsExactly(StepEvent.Status.CACHED);
    }

    @Test
    void aBuildThatCopiesFromTheStageWaitsForTheOtherBuildsRunAndThenOnlyExports() throws Exception {
        farm.submit(null, InProcessFarm.request(BUILDS_FROM, context));
        Job tools = worker.nextJob();
        assertThat(tools.getExportsCount()).isZero();
        farm.submit(null, InProcessFarm.request(COPIES, context));
        worker.assertNoJobWithin(Duration.ofSeconds(1));

        store(tools.getSteps(0).getKey());
        worker.finish(tools, tools.getStageKey());

        Map<String, Job> byBuild = new HashMap<>();
        for (int i = 0; i < 2; i++) {
            Job job = worker.nextJob();
            byBuild.put(job.getBuildId().equals(tools.getBuildId()) ? "builds-from" : "copies", job);
        }
        assertThat(byBuild.get("builds-from").getStageName()).isNotEqualTo("tools");
        Job exports = byBuild.get("copies");
        assertThat(exports.getStageName()).isEqualTo("tools");
        assertThat(exports.getExportsCount()).isEqualTo(1);
        assertThat(exports.getSteps(0).getIsCached())
                .as("make-tools is not run again: the job only packs /t from its cached layer")
                .isTrue();
    }

    @Test
    void whenTheRunItWaitedForFailsTheBuildRunsTheStepsItself() throws Exception {
        farm.submit(null, InProcessFarm.request(COPIES, context));
        Job tools = worker.nextJob();
        farm.submit(null, InProcessFarm.request(BUILDS_FROM, context));
        worker.assertNoJobWithin(Duration.ofSeconds(1));

        worker.fail(tools, "make-tools: exit code 2");

        Job again = worker.nextJob();
        assertThat(again.getStageName()).isEqualTo("tools");
        assertThat(again.getBuildId()).isNotEqualTo(tools.getBuildId());
        assertThat(again.getSteps(0).getIsCached()).isFalse();
    }

    @Test
    void aWaitingBuildWhoseClientGoesAwayEndsAtOnceAndHearsNoMoreOfTheRun() throws Exception {
        farm.submit(null, InProcessFarm.request(COPIES, context));
        Job tools = worker.nextJob();
        Context.CancellableContext call = Context.current().withCancellation();
        Thread client = Thread.ofVirtual()
                .start(() -> call.run(() -> {
                    try {
                        CoordinatorGrpc.newBlockingStub(farm.channel())
                                .build(InProcessFarm.request(BUILDS_FROM, context))
                                .forEachRemaining(e -> {});
                    } catch (StatusRuntimeException cancelled) {
                        // what the client reads once it went away
                    }
                }));
        worker.assertNoJobWithin(Duration.ofSeconds(1));
        assertThat(farm.buildsInProgress()).isEqualTo(2);

        call.cancel(null); // Ctrl-C

        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (farm.buildsInProgress() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(farm.buildsInProgress())
                .as("the cancelled build ended while the run it waited for goes on")
                .isEqualTo(1);
        client.join(Duration.ofSeconds(5));
        String cancelled = builds().stream()
                .filter(b -> !b.getBuildId().equals(tools.getBuildId()))
                .findFirst()
                .orElseThrow()
                .getBuildId();
        List<StageTimeline> atItsEnd = stages(cancelled);

        worker.report(step(tools, StepEvent.Status.STARTED));
        worker.report(step(tools, StepEvent.Status.DONE));
        // the run's events reach its own build, then the builds watching it, one event after the
        // other: once a later event is in the run's build, the DONE has gone to every watcher
        worker.report(JobEvent.newBuilder()
                .setJobId(tools.getJobId())
                .setLog(LogLine.newBuilder()
                        .setStageIndex(tools.getStageIndex())
                        .setText("later"))
                .build());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> logged(tools.getBuildId()).contains("later"));
        assertThat(stages(cancelled))
                .as("`stagefarm builds` shows the cancelled build as it ended, not the run it no longer waits for")
                .isEqualTo(atItsEnd);
    }

    /** The log lines a build's record holds, as `stagefarm builds logs` prints them. */
    private List<String> logged(String buildId) {
        List<String> lines = new ArrayList<>();
        coordinator()
                .buildLogs(BuildLogsRequest.newBuilder().setBuildId(buildId).build())
                .forEachRemaining(e -> lines.add(e.getLog().getText()));
        return lines;
    }

    private List<BuildSummary> builds() {
        return coordinator()
                .listBuilds(ListBuildsRequest.newBuilder()
                        .setIncludeFinished(true)
                        .setWithStages(true)
                        .build())
                .getBuildsList();
    }

    /** A build's stage timeline, as `stagefarm builds` shows it. */
    private List<StageTimeline> stages(String buildId) {
        return builds().stream()
                .filter(b -> b.getBuildId().equals(buildId))
                .findFirst()
                .orElseThrow()
                .getStagesList();
    }

    private CoordinatorGrpc.CoordinatorBlockingStub coordinator() {
        return CoordinatorGrpc.newBlockingStub(farm.channel());
    }

    /** A worker's event for the first step (after FROM) of {@code job}. */
    private static JobEvent step(Job job, StepEvent.Status status) {
        return JobEvent.newBuilder()
                .setJobId(job.getJobId())
                .setStep(StepEvent.newBuilder()
                        .setStageIndex(job.getStageIndex())
                        .setStageName(job.getStageName())
                        .setStepIndex(1)
                        .setDescription(job.getSteps(0).getDescription())
                        .setStatus(status)
                        .setWorker("w1"))
                .build();
    }

    /** Stores a step's result, with a layer, in the cache, as a worker does. */
    private Layer store(String stepKey) throws Exception {
        byte[] bytes = "the layer of make-tools".getBytes(StandardCharsets.UTF_8);
        String digest = farm.cache().upload(bytes).toString();
        Layer layer = Layer.newBuilder()
                .setDigest(digest)
                .setDiffId(digest)
                .setSize(bytes.length)
                .setMediaType("application/vnd.oci.image.layer.v1.tar")
                .build();
        farm.cache()
                .putAction(
                        stepKey,
                        ActionResult.newBuilder()
                                .setStep(StepResult.newBuilder().setLayer(layer))
                                .addBlobs(digest)
                                .build());
        return layer;
    }
}
