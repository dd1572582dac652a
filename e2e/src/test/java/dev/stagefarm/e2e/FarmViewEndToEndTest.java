package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stagefarm builds} (list, cancel, logs) through the real launcher, and the coordinator's
 * web page in a real headless Chromium, against a farm of processes with a tokens file: each team
 * sees its own builds and only counts of the others', and hostile log lines stay text.
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FarmViewEndToEndTest {

    private static final String ALICE = "sf_alice_view_token";
    private static final String BOB = "sf_bob_view_token";
    private static final String ADMIN = "sf_admin_view_token";
    private static final String FARM = "sf_farm_view_token";

    /** One farm for the class: its directory comes with {@link #startFarm}. */
    private Path dir;

    private Farm farm;
    private String ui;

    @BeforeAll
    void startFarm(@TempDir Path dir) throws Exception {
        this.dir = dir;
        Farm.Security security = new TokensFile()
                .token("alice", "team-a", ALICE, "read", "write")
                .token("bob", "team-b", BOB, "read", "write")
                .token("root", "ops", ADMIN, "read", "admin")
                .token("farm", "ops", FARM, "read", "write", "farm")
                .security(dir.resolve("tokens.json"), FARM);
        ui = "127.0.0.1:" + Farm.freePort();
        farm = new Farm(dir, security, List.of("--ui", ui), "w1");
    }

    @AfterAll
    void stopFarm() throws InterruptedException {
        if (farm != null) {
            farm.close();
        }
    }

    @Test
    void buildsListsATeamsBuildsFollowsTheirLogsAndCancelsThem() throws Exception {
        Path context = context("slow", "FROM busybox AS waiter\nRUN echo 'started <b>slow</b>' && sleep 600\n");
        Path buildOut = dir.resolve("slow-build.log");
        Process build = farm.startBuild(buildOut, "--token", ALICE, context.toString());

        Farm.Result listed = awaitCli(
                r -> r.output().contains("RUNNING"), "builds", "--coordinator", farm.coordinator, "--token", ALICE);
        String id = idOf(listed.output(), "team-a");
        assertThat(listed.output()).contains("team-a").contains("w1");

        Farm.Result asBob = farm.cli("builds", "--coordinator", farm.coordinator, "--token", BOB);
        assertThat(asBob.exitCode()).isZero();
        assertThat(asBob.output())
                .as("team B sees team A's build only as a count")
                .doesNotContain(id)
                .contains("team team-a: 1 running");
        assertThat(farm.cli("builds", "--coordinator", farm.coordinator, "--token", ADMIN)
                        .output())
                .as("an admin token sees every team's builds")
                .contains(id);

        awaitCli(
                r -> r.output().contains("started <b>slow</b>"),
                "builds",
                "logs",
                id,
                "--coordinator",
                farm.coordinator,
                "--token",
                ALICE);
        Path followed = dir.resolve("follow.log");
        Process follow =
                launch(followed, "builds", "logs", id, "-f", "--coordinator", farm.coordinator, "--token", ALICE);

        Farm.Result bobCancels = farm.cli("builds", "cancel", id, "--coordinator", farm.coordinator, "--token", BOB);
        assertThat(bobCancels.exitCode()).isNotZero();
        assertThat(bobCancels.output()).contains("not found: no build " + id + " among those your token may see");
        Farm.Result bobReads = farm.cli("builds", "logs", id, "--coordinator", farm.coordinator, "--token", BOB);
        assertThat(bobReads.exitCode()).isNotZero();
        assertThat(bobReads.output()).doesNotContain("started <b>slow</b>");

        Farm.Result cancelled = farm.cli("builds", "cancel", id, "--coordinator", farm.coordinator, "--token", ALICE);
        assertThat(cancelled.exitCode()).as(cancelled.output()).isZero();
        assertThat(cancelled.output()).contains(id + ": CANCELLED");

        assertThat(build.waitFor(60, TimeUnit.SECONDS))
                .as("the cancelled build's client ends")
                .isTrue();
        assertThat(build.exitValue()).isNotZero();
        assertThat(Files.readString(buildOut)).contains("build cancelled by token 'alice'");
        assertThat(follow.waitFor(60, TimeUnit.SECONDS))
                .as("builds logs -f ends with the build")
                .isTrue();
        assertThat(Files.readString(followed))
                .contains("started <b>slow</b>")
                .contains("build " + id + ": build cancelled by token 'alice'");

        assertThat(farm.cli("builds", "--all", "--coordinator", farm.coordinator, "--token", ALICE)
                        .output())
                .containsPattern(id + "\\s+team-a\\s+CANCELLED");
    }

    @Test
    void theWebPageShowsATeamItsBuildsTheWorkersAndATimelineAndKeepsHostileLinesText() throws Exception {
        farm.build(
                        "--token",
                        BOB,
                        context("bob", "FROM busybox AS bobsecretstage\nRUN echo bob-private-output\n")
                                .toString())
                .assertOk();
        String bobs = idOf(
                farm.cli("builds", "-a", "--coordinator", farm.coordinator, "--token", BOB)
                        .output(),
                "team-b");
        Path hostile = context("hostile", """
                FROM busybox AS evil
                RUN echo '<img src=x onerror="window.pwned=1">' && echo '<script>window.pwned=2</script>' && sleep 8
                FROM busybox
                COPY --from=evil /bin/busybox /x
                """);
        Path aliceOut = dir.resolve("hostile-build.log");
        Process alice = farm.startBuild(aliceOut, "--token", ALICE, hostile.toString());
        String id = idOf(
                awaitCli(
                                r -> r.output().contains("RUNNING"),
                                "builds",
                                "--coordinator",
                                farm.coordinator,
                                "--token",
                                ALICE)
                        .output(),
                "team-a");

        try (Chromium page = Chromium.start(dir.resolve("chromium"))) {
            page.navigate("http://" + ui + "/");
            page.await("the sign-in form", "!document.getElementById('signin').hidden", Duration.ofSeconds(30));
            page.eval("document.getElementById('token').value = '" + ALICE + "';"
                    + " document.getElementById('signin-form').requestSubmit(); true");
            page.await(
                    "alice's build in the builds table",
                    "document.querySelector('#builds').innerText.includes('" + id + "')",
                    Duration.ofSeconds(30));
            page.await(
                    "a timeline lane for w1 with a stage bar",
                    "document.querySelectorAll('#timeline .lane[data-worker=\"w1\"] .bar').length > 0",
                    Duration.ofSeconds(60));
            page.await(
                    "the hostile log lines, as text",
                    "document.getElementById('log').textContent.includes('<script>window.pwned=2</script>')",
                    Duration.ofSeconds(60));
            page.screenshot(dir.resolve("farm-view.png"));
            Path keep = Path.of(System.getProperty("stagefarm.screenshot", "target/farm-view.png"));
            Files.createDirectories(keep.toAbsolutePath().getParent());
            Files.copy(dir.resolve("farm-view.png"), keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

            assertThat(page.text("String(window.pwned)"))
                    .as("no script of the build's ran")
                    .isEqualTo("undefined");
            assertThat(page.eval("document.querySelectorAll('main img, main script').length")
                            .asInt())
                    .as("the build's markup made no element")
                    .isZero();
            assertThat(page.text("document.getElementById('log').textContent"))
                    .contains("<img src=x onerror=\"window.pwned=1\">");
            String shown = page.text("document.body.innerText");
            assertThat(shown)
                    .as("team A's page shows its build and the workers")
                    .contains(id)
                    .contains("w1")
                    .containsPattern("(busy|idle)")
                    .contains("team team-a");
            assertThat(shown)
                    .as("nothing of team B's build but counts")
                    .doesNotContain(bobs)
                    .doesNotContain("bobsecretstage")
                    .doesNotContain("bob-private-output");
            assertThat(page.text("location.href")).doesNotContain(ALICE);
            assertThat(page.text("sessionStorage.getItem('stagefarm.token')")).isEqualTo(ALICE);

            page.await(
                    "the build's end, as the page polls",
                    "document.getElementById('detail-state').textContent === 'SUCCEEDED'",
                    Duration.ofMinutes(3));
            assertThat(page.eval("document.querySelectorAll('#timeline .bar').length")
                            .asInt())
                    .as("a bar per stage")
                    .isEqualTo(2);
        }
        assertThat(alice.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(alice.exitValue()).as(Files.readString(aliceOut)).isZero();

        var anonymous = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + ui + "/api/farm"))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).as("no token, no farm").isEqualTo(401);
        assertThat(anonymous.body()).doesNotContain(id);
    }

    /** Runs a CLI command until its output satisfies {@code done} (2 minutes at most). */
    private Farm.Result awaitCli(Predicate<Farm.Result> done, String... args) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            Farm.Result r = farm.cli(args);
            if (done.test(r)) {
                return r;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "stagefarm " + String.join(" ", args) + " never showed what was awaited:\n" + r.output());
            }
            Thread.sleep(1000);
        }
    }

    /** The id on the first row of a `builds` table that names {@code team}. */
    private static String idOf(String table, String team) {
        for (String line : table.split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length > 2 && cols[1].equals(team)) {
                return cols[0];
            }
        }
        throw new AssertionError("no build of " + team + " in:\n" + table);
    }

    private Process launch(Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Farm.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().remove("STAGEFARM_TOKEN");
        pb.environment().put("STAGEFARM_CONFIG", "/nonexistent/stagefarm-e2e.properties");
        return pb.start();
    }

    private Path context(String name, String dockerfile) throws IOException {
        Path ctx = Files.createDirectories(dir.resolve("ctx-" + name));
        Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
        return ctx;
    }
}
