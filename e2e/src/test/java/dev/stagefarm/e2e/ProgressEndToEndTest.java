package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees of a build: the tty display under a real pseudo-terminal (util-linux
 * {@code script}), {@code --progress rawjson}, {@code --trace}, a failing RUN, and the one-line
 * errors of a build that cannot start. Builds run on the embedded farm ({@code --data}), two
 * workers, base images from the local registry.
 */
@Tag("e2e")
class ProgressEndToEndTest {

    private static final String DOCKERFILE = """
            FROM busybox AS one
            RUN for i in 1 2 3 4 5 6; do echo one-says-$i; sleep 0.3; done
            RUN echo built > /one.txt

            FROM busybox AS two
            RUN echo two; sleep 1; echo two-done > /two.txt

            FROM busybox
            COPY --from=one /one.txt /
            COPY --from=two /two.txt /
            RUN cat /one.txt /two.txt
            """;

    /** The step lines of the Dockerfile above, as progress names them. */
    private static final List<String> STEPS = List.of(
            "[one 2/3] RUN for i in",
            "[one 3/3] RUN echo built",
            "[two 2/2] RUN echo two",
            "[stage-2 2/4] COPY --from=one",
            "[stage-2 3/4] COPY --from=two",
            "[stage-2 4/4] RUN cat /one.txt /two.txt");

    private static final Pattern ESCAPE = Pattern.compile("\u001b\\[[0-9;?]*[A-Za-z]");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FARM_LOG = Pattern.compile("^[0-9:.]{12} \\[[^]]+\\] (WARN|ERROR) ");

    @TempDir
    Path dir;

    @Test
    void ttyDisplayRedrawsInPlaceShowsWorkersThenCachedAndEndsWithTheSummary() throws Exception {
        Tools.requireAll();
        Path context = context(DOCKERFILE);
        Path trace = dir.resolve("trace.json");

        Result cold = underPty("build", "--trace", trace.toString(), context.toString());
        assertThat(cold.exitCode()).as(cold.output()).isZero();
        // redrawn in place: the cursor goes back up over the last frame and lines are erased
        assertThat(cold.output()).containsPattern("\u001b\\[[0-9]+A").contains("\u001b[K");
        assertThat(count(cold.output(), "[+] Building")).as("frames drawn").isGreaterThan(5);
        // and the terminal is never asked anything: its answers would land in the user's shell
        assertThat(cold.output())
                .doesNotContainPattern("\u001b\\[\\?[0-9]+\\$p")
                .doesNotContain("\u001b[c")
                .doesNotContain("\u001b[6n");
        List<String> last = lastFrame(cold.output());
        for (String step : STEPS) {
            assertThat(last)
                    .as("step %s with its worker and time in the last frame", step)
                    .anyMatch(l -> l.contains(step) && l.matches(".* w[12]  [0-9]+\\.[0-9]s$"));
        }
        // a running step's output was shown under it, and finished steps collapsed to one line
        assertThat(cold.output()).contains(" => => # one-says-");
        assertThat(last).noneMatch(l -> l.contains("=> => #"));
        List<String> lines = plainLines(cold.output());
        assertThat(lines.get(lines.size() - 2)).matches("summary: [0-9.]+s total; steps: 6 run, 0 cached; .*");
        assertThat(lines.getLast()).matches("summary: (w[12] busy [0-9.]+s \\([0-9] stages?\\)(, )?)+");

        assertTrace(trace);

        Result again = underPty("build", context.toString());
        assertThat(again.exitCode()).as(again.output()).isZero();
        List<String> cached = lastFrame(again.output());
        for (String step : STEPS) {
            assertThat(cached).as("step %s cached", step).anyMatch(l -> l.contains("=> CACHED " + step));
        }
        List<String> lines2 = plainLines(again.output());
        assertThat(lines2.get(lines2.size() - 2)).contains("steps: 0 run, 6 cached; workers fetched 0 B");
        assertThat(lines2.getLast()).isEqualTo("summary: no worker needed: every stage came from the cache");
    }

    /** One track per worker, a slice per step, a queue-wait slice per dispatched stage. */
    private static void assertTrace(Path trace) throws IOException {
        JsonNode events = JSON.readTree(trace.toFile()).get("traceEvents");
        Set<String> processes = new HashSet<>();
        Set<String> stepWorkers = new HashSet<>();
        List<String> slices = new ArrayList<>();
        int queueWaits = 0;
        for (JsonNode e : events) {
            if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("process_name")) {
                processes.add(e.get("args").get("name").asText());
            } else if (e.get("ph").asText().equals("X")) {
                switch (e.get("cat").asText()) {
                    case "step" -> {
                        slices.add(e.get("name").asText());
                        stepWorkers.add(e.get("args").get("worker").asText());
                    }
                    case "queue" -> queueWaits++;
                    default -> {}
                }
            }
        }
        assertThat(stepWorkers).isNotEmpty().allMatch(w -> w.matches("w[12]"));
        assertThat(processes).containsAll(stepWorkers).contains("coordinator queue");
        for (String step : STEPS) {
            assertThat(slices).as("a slice for %s", step).anyMatch(s -> s.startsWith(step));
        }
        assertThat(slices).hasSize(STEPS.size() + 3); // and the three FROMs
        assertThat(queueWaits).as("a queue wait per stage").isEqualTo(3);
    }

    @Test
    void rawjsonIsOneParsableEventPerLineEndingWithTheSummary() throws Exception {
        Tools.requireAll();
        Path context = context(DOCKERFILE);
        Result r = plain("build", "--progress", "rawjson", context.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        List<JsonNode> events = new ArrayList<>();
        for (String line : r.stdout().lines().toList()) {
            events.add(JSON.readTree(line)); // every line parses, or the test fails here
        }
        Set<String> finished = events.stream()
                .filter(e -> e.get("type").asText().equals("step"))
                .filter(e -> e.get("status").asText().equals("done"))
                .map(e -> e.get("description").asText())
                .collect(Collectors.toSet());
        for (String step : STEPS) {
            assertThat(finished).as("a done event for %s", step).anyMatch(d -> d.startsWith(step));
        }
        assertThat(events).anyMatch(e -> e.get("type").asText().equals("queue"));
        assertThat(events)
                .anyMatch(e -> e.get("type").asText().equals("log")
                        && e.get("text").asText().equals("one-says-6"));
        JsonNode summary = events.getLast();
        assertThat(summary.get("type").asText()).isEqualTo("summary");
        assertThat(summary.get("steps_run").asInt()).isEqualTo(6);
        assertThat(summary.get("image").asText()).startsWith("sha256:");
    }

    @Test
    void aFailingRunShowsItsLineExitCodeAndLastOutputAndTheCliFails() throws Exception {
        Tools.requireAll();
        Path context = context("""
                FROM busybox
                RUN echo fine
                RUN echo first-words; echo last-words; exit 3
                RUN echo never
                """);
        Result r = underPty("build", context.toString());
        assertThat(r.exitCode()).as(r.output()).isNotZero();
        String text = ESCAPE.matcher(r.output()).replaceAll("");
        assertThat(text)
                .contains("ERROR: Dockerfile:3: RUN ")
                .contains("exit code: 3")
                .contains("last-words")
                .contains("=> ERROR [stage-0 3/4] RUN echo first-words")
                .doesNotContain("Exception")
                .doesNotContain("never\n");
    }

    @Test
    void aBuildThatCannotStartSaysWhyInOneLine() throws Exception {
        Tools.requireAll();
        Path context = context("FROM busybox\n");
        Result unreachable = plain("build", "--coordinator", "127.0.0.1:" + Farm.freePort(), context.toString());
        assertOneLineError(unreachable, "cannot reach the farm's coordinator at 127.0.0.1:");
        Result noContext = plain("build", dir.resolve("nowhere").toString());
        assertOneLineError(noContext, "build context " + dir.resolve("nowhere") + " is not a directory");
        Result noDockerfile = plain("build", "-f", dir.resolve("Nofile").toString(), context.toString());
        assertOneLineError(noDockerfile, "no Dockerfile at " + dir.resolve("Nofile"));
        Result badMode = plain("build", "--progress", "fancy", context.toString());
        assertOneLineError(badMode, "--progress fancy: expected auto, tty, plain, quiet or rawjson");
    }

    private static void assertOneLineError(Result r, String sentence) {
        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.output().strip().lines()).as(r.output()).hasSize(1);
        assertThat(r.output()).contains(sentence).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private Path context(String dockerfile) throws IOException {
        Path context = Files.createTempDirectory(dir, "ctx");
        Files.writeString(context.resolve("Dockerfile"), dockerfile);
        return context;
    }

    /** The launcher on the embedded farm, under a pseudo-terminal as a user's shell runs it. */
    private Result underPty(String... args) throws IOException, InterruptedException {
        String command =
                launcher(args).stream().map(ProgressEndToEndTest::quote).collect(Collectors.joining(" "));
        ProcessBuilder pb = new ProcessBuilder("script", "-qefc", command, "/dev/null");
        pb.environment().put("TERM", "xterm-256color");
        return run(pb, String.join(" ", args));
    }

    /** The launcher with its stdout and stderr apart, no terminal. */
    private Result plain(String... args) throws IOException, InterruptedException {
        return run(new ProcessBuilder(launcher(args)), String.join(" ", args));
    }

    private List<String> launcher(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Farm.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        if (args[0].equals("build") && !List.of(args).contains("--coordinator")) {
            cmd.addAll(List.of(
                    "--data",
                    dir.resolve("farm").toString(),
                    "--registry-mirror",
                    "docker.io=http://" + Farm.REGISTRY,
                    "--insecure-registry",
                    Farm.REGISTRY));
        }
        return cmd;
    }

    private Result run(ProcessBuilder pb, String what) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".log");
        Path err = Files.createTempFile(dir, "err", ".log");
        pb.environment().remove("STAGEFARM_TOKEN");
        pb.environment().put("STAGEFARM_CONFIG", "/nonexistent/stagefarm-e2e.properties");
        pb.environment()
                .put("STAGEFARM_SOCKET_DIR", dir.resolve("no-local-farm").toString());
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        System.out.println("---- stagefarm " + what + "\n" + stdout + stderr);
        return new Result(done ? p.exitValue() : -1, stdout, stderr);
    }

    /**
     * A terminal's lines without escape sequences (carriage returns end lines too), and without
     * the embedded farm's own log lines: its workers check their runc in the background and may
     * warn after a fully cached build has printed its summary.
     */
    private static List<String> plainLines(String tty) {
        return ESCAPE.matcher(tty)
                .replaceAll("")
                .lines()
                .map(String::stripTrailing)
                .filter(l -> !l.isEmpty())
                .filter(l -> !FARM_LOG.matcher(l).find())
                .toList();
    }

    /** The display's final frame: from the last header to the lines after it. */
    private static List<String> lastFrame(String tty) {
        String frame = tty.substring(tty.lastIndexOf("[+] Built"));
        return plainLines(frame);
    }

    private static int count(String text, String what) {
        return text.split(Pattern.quote(what), -1).length - 1;
    }

    private static String quote(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    private record Result(int exitCode, String stdout, String stderr) {
        String output() {
            return stdout + stderr;
        }
    }
}
