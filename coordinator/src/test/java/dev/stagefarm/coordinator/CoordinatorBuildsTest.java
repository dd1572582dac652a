package dev.stagefarm.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.ServerTls;
import dev.stagefarm.coordinator.web.FarmWebServer;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildLogsRequest;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.CancelBuildRequest;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.LogLine;
import dev.stagefarm.proto.farm.StepEvent;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ListBuilds, CancelBuild and BuildLogs through a real coordinator service with a tokens file, and
 * its web view's JSON over HTTP: a team sees and cancels its own builds only, an admin sees all.
 */
class CoordinatorBuildsTest {

    private static final String ALICE = "alice-token";
    private static final String BOB = "bob-token";
    private static final String READER = "reader-token";
    private static final String ADMIN = "admin-token";
    private static final String FARM = "farm-token";

    @TempDir
    Path dir;

    private InProcessFarm farm;
    private Channel channel;

    @BeforeEach
    void start() throws Exception {
        Path tokens = Files.writeString(
                dir.resolve("tokens.json"),
                "{\"tokens\": ["
                        + InProcessFarm.tokenEntry("alice", "team-a", "\"read\",\"write\"", ALICE) + ","
                        + InProcessFarm.tokenEntry("bob", "team-b", "\"read\",\"write\"", BOB) + ","
                        + InProcessFarm.tokenEntry("reader", "team-a", "\"read\"", READER) + ","
                        + InProcessFarm.tokenEntry("root", "ops", "\"read\",\"admin\"", ADMIN) + ","
                        + InProcessFarm.tokenEntry("farm", "ops", "\"read\",\"write\",\"farm\"", FARM) + "]}");
        farm = InProcessFarm.withTokens(dir, tokens, FARM);
        channel = farm.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        farm.close();
    }

    @Test
    void aTeamListsFollowsAndCancelsItsOwnBuildsOnly() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", 1, farm.channel(FARM));
        CompletableFuture<String> build = submit(ALICE, farm.uploadContext(ALICE));
        Job job = worker.nextJob();
        worker.report(JobEvent.newBuilder()
                .setJobId(job.getJobId())
                .setStep(StepEvent.newBuilder()
                        .setStageIndex(0)
                        .setStageName("stage-0")
                        .setStepIndex(1)
                        .setStatus(StepEvent.Status.STARTED)
                        .setWorker("w1"))
                .build());
        worker.report(JobEvent.newBuilder()
                .setJobId(job.getJobId())
                .setLog(LogLine.newBuilder().setStageIndex(0).setStepIndex(1).setText("<script>x()</script>"))
                .build());

        BuildSummary listed = awaitRunning(ALICE);
        String id = listed.getBuildId();
        assertThat(listed.getTeam()).isEqualTo("team-a");
        assertThat(listed.getWorkersList()).containsExactly("w1");
        var asBob = stub(BOB).listBuilds(ListBuildsRequest.getDefaultInstance());
        assertThat(asBob.getBuildsList()).isEmpty();
        assertThat(asBob.getOtherTeams(0).getRunning()).isEqualTo(1);
        assertThat(stub(ADMIN)
                        .listBuilds(ListBuildsRequest.getDefaultInstance())
                        .getBuildsList())
                .extracting(BuildSummary::getBuildId)
                .containsExactly(id);

        Iterator<BuildEvent> follow = stub(ALICE)
                .buildLogs(BuildLogsRequest.newBuilder()
                        .setBuildId(id)
                        .setFollow(true)
                        .build());
        assertThat(next(follow, BuildEvent::hasLog).getLog().getText()).isEqualTo("<script>x()</script>");

        assertThatThrownBy(() -> stub(BOB)
                        .cancelBuild(
                                CancelBuildRequest.newBuilder().setBuildId(id).build()))
                .as("another team's build is unknown to bob")
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> stub(BOB)
                        .buildLogs(BuildLogsRequest.newBuilder().setBuildId(id).build())
                        .hasNext())
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> stub(READER)
                        .cancelBuild(
                                CancelBuildRequest.newBuilder().setBuildId(id).build()))
                .as("cancelling needs the write scope")
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getDescription()).contains("needs the write scope"));

        try (FarmWebServer web = farm.server().serveUi(HostPort.parse("127.0.0.1:0"), ServerTls.NONE)) {
            String base = "http://127.0.0.1:" + web.address().port();
            HttpResponse<String> asAlice = get(base + "/api/farm", ALICE);
            assertThat(asAlice.statusCode()).isEqualTo(200);
            assertThat(asAlice.body()).contains(id).contains("\"name\":\"w1\"").contains("\"state\":\"busy\"");
            assertThat(get(base + "/api/farm", BOB).body())
                    .doesNotContain(id)
                    .contains("\"otherTeams\":[{\"team\":\"team-a\"");
            assertThat(get(base + "/api/builds/" + id, BOB).statusCode()).isEqualTo(404);
            HttpResponse<String> detail = get(base + "/api/builds/" + id, ALICE);
            assertThat(detail.body()).contains("\"text\":\"<script>x()</script>\"");
            assertThat(detail.headers().firstValue("Content-Type").orElse(""))
                    .as("data, never a page a browser would render")
                    .startsWith("application/json");
            assertThat(detail.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
            HttpResponse<String> anonymous = get(base + "/api/farm", null);
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThat(anonymous.body()).contains("sign in with a token");
            HttpResponse<String> page = get(base + "/", null);
            assertThat(page.statusCode())
                    .as("the page itself loads before sign-in")
                    .isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Security-Policy").orElse(""))
                    .contains("script-src 'self'")
                    .doesNotContain("unsafe-inline");
            assertThat(get(base + "/api/farm?token=" + ALICE, null).statusCode())
                    .as("a token in the URL is never read")
                    .isEqualTo(401);
        }

        var cancelled = stub(ALICE)
                .cancelBuild(CancelBuildRequest.newBuilder().setBuildId(id).build());
        assertThat(cancelled.getBuild().getBuildId()).isEqualTo(id);
        assertThat(worker.nextCancel(Duration.ofSeconds(5)))
                .as("its running job is stopped")
                .isEqualTo(job.getJobId());
        assertThat(build.get(10, TimeUnit.SECONDS))
                .isEqualTo("build cancelled by token 'alice' (stagefarm builds cancel)");
        assertThat(next(follow, BuildEvent::hasError).getError().getMessage()).startsWith("build cancelled by token");
        assertThat(follow.hasNext())
                .as("the followed stream ends with the build")
                .isFalse();
        assertThat(stub(ALICE)
                        .listBuilds(ListBuildsRequest.newBuilder()
                                .setIncludeFinished(true)
                                .build())
                        .getBuilds(0)
                        .getState())
                .isEqualTo(BuildSummary.State.CANCELLED);
    }

    private static HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anAdminTokenCancelsAnotherTeamsBuild() throws Exception {
        FakeWorker worker = FakeWorker.connect("w1", 1, farm.channel(FARM));
        CompletableFuture<String> build = submit(BOB, farm.uploadContext(BOB));
        Job job = worker.nextJob();
        worker.report(JobEvent.newBuilder()
                .setJobId(job.getJobId())
                .setStep(StepEvent.newBuilder()
                        .setStageIndex(0)
                        .setStepIndex(0)
                        .setStatus(StepEvent.Status.STARTED)
                        .setWorker("w1"))
                .build());
        String id = awaitRunning(ADMIN).getBuildId();

        stub(ADMIN).cancelBuild(CancelBuildRequest.newBuilder().setBuildId(id).build());

        assertThat(worker.nextCancel(Duration.ofSeconds(5))).isEqualTo(job.getJobId());
        assertThat(build.get(10, TimeUnit.SECONDS)).startsWith("build cancelled by token 'root'");
    }

    private BuildSummary awaitRunning(String token) {
        return await("the build is listed as running")
                .atMost(Duration.ofSeconds(10))
                .until(
                        () -> stub(token)
                                .listBuilds(ListBuildsRequest.getDefaultInstance())
                                .getBuildsList(),
                        builds -> !builds.isEmpty() && builds.get(0).getState() == BuildSummary.State.RUNNING)
                .get(0);
    }

    private static BuildEvent next(Iterator<BuildEvent> events, Predicate<BuildEvent> wanted) {
        while (events.hasNext()) {
            BuildEvent e = events.next();
            if (wanted.test(e)) {
                return e;
            }
        }
        throw new AssertionError("the stream ended first");
    }

    private CoordinatorGrpc.CoordinatorBlockingStub stub(String token) {
        return CoordinatorGrpc.newBlockingStub(farm.channel(token)).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private CompletableFuture<String> submit(String token, String context) {
        return farm.submit(token, request(context));
    }

    private static BuildRequest request(String context) {
        return InProcessFarm.request("FROM scratch\nCOPY a /a\n", context);
    }
}
