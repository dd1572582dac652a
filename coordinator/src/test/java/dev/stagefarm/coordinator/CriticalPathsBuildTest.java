package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.StepEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Within a build the queue runs the longest chain of work first, and learns what "longest" is
 * from the builds before: through the real coordinator service and cache-server in process, a
 * worker that reports its steps' durations as a real one does.
 */
class CriticalPathsBuildTest {

    /** Stage "many": three steps; stage "one": a single step; the target copies from both. */
    private static final String DOCKERFILE = """
            FROM scratch AS many
            RUN step-1
            RUN step-2
            RUN step-3
            FROM scratch AS one
            RUN the-long-step
            FROM scratch
            COPY --from=many /a /a
            COPY --from=one /b /b
            """;

    @TempDir
    Path dir;

    private InProcessFarm farm;
    private FakeWorker worker;
    private String context;

    @BeforeEach
    void start() throws Exception {
        farm = InProcessFarm.open(dir);
        worker = FakeWorker.connect("w1", 1, farm.channel());
        context = farm.uploadContext();
    }

    @AfterEach
    void stop() throws InterruptedException {
        farm.close();
    }

    @Test
    void afterAFirstBuildRecordsItsStepsTheStageWithTheLongerStepGoesFirst() throws Exception {
        assertThat(buildAndReport("first"))
                .as("nothing recorded: the stage with more steps")
                .isEqualTo("many");

        assertThat(buildAndReport("second"))
                .as("the first build's workers took 30 s for one's step, 50 ms for each of many's")
                .isEqualTo("one");
    }

    /**
     * Runs the build while the worker's one slot is taken, so that both of its first stages wait
     * in the queue; when the slot frees, the queue picks one. The worker reports every step of
     * "many" at 50 ms and the step of "one" at 30 s.
     *
     * @return the stage the queue sent first
     */
    private String buildAndReport(String round) throws Exception {
        CompletableFuture<String> blocker =
                farm.submit(null, InProcessFarm.request("FROM scratch\nRUN block-" + round + "\n", context));
        Job blocking = worker.nextJob();
        CompletableFuture<String> build = farm.submit(null, InProcessFarm.request(DOCKERFILE, context));
        await().atMost(Duration.ofSeconds(20)).until(() -> farm.jobsQueued() == 2);
        worker.finish(blocking, blocking.getStageKey());
        assertThat(blocker.get(20, TimeUnit.SECONDS)).isEmpty();

        Job first = worker.nextJob();
        runReporting(first);
        runReporting(worker.nextJob());
        Job target = worker.nextJob();
        worker.finish(target, target.getStageKey());
        assertThat(build.get(20, TimeUnit.SECONDS)).isEmpty();
        return first.getStageName();
    }

    private void runReporting(Job job) {
        long millis = job.getStageName().equals("one") ? 30_000 : 50;
        for (int i = 1; i <= job.getStepsCount(); i++) {
            worker.report(JobEvent.newBuilder()
                    .setJobId(job.getJobId())
                    .setStep(StepEvent.newBuilder()
                            .setStageIndex(job.getStageIndex())
                            .setStageName(job.getStageName())
                            .setStepIndex(i)
                            .setStatus(StepEvent.Status.DONE)
                            .setWorker(worker.name)
                            .setMillis(millis))
                    .build());
        }
        worker.finish(job, job.getStageKey());
    }
}
