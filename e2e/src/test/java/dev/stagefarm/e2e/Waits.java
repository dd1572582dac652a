package dev.stagefarm.e2e;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What the end-to-end tests wait for, one Awaitility call each, so no test carries its own polling
 * loop: a line in a build's progress, a server's port, an HTTP answer, mounts gone below a root.
 */
final class Waits {

    private static final Duration POLL = Duration.ofMillis(100);

    private Waits() {}

    /** Waits until {@code pattern} matches in {@code file} (a build's progress); returns its group 1. */
    static String awaitMatch(Path file, Pattern pattern, Duration timeout) throws IOException {
        try {
            return await(pattern + " in " + file)
                    .atMost(timeout)
                    .pollInterval(POLL)
                    .until(() -> firstGroup(file, pattern), Optional::isPresent)
                    .orElseThrow();
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(pattern + " never appeared in " + file + " within " + timeout + ":\n"
                    + (Files.exists(file) ? Files.readString(file) : "(no file)"));
        }
    }

    /** Waits until progress says which worker ({@code w1}, {@code w2}, ...) runs the step that matches. */
    static String awaitWorkerRunning(Path progress, String stepPrefix) throws IOException {
        return awaitMatch(
                progress, Pattern.compile(Pattern.quote(stepPrefix) + ".*\\(on (w\\d)\\)"), Duration.ofMinutes(2));
    }

    /** Waits until nothing is mounted below {@code root} (a restarted worker cleans up what a lost job left). */
    static void awaitNoMountsBelow(Path root) {
        await("no mounts left below " + root)
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> mountsBelow(root).isEmpty());
    }

    /** Waits until something accepts connections on {@code host:port}. */
    static void awaitPort(String hostPort) {
        String[] hp = hostPort.split(":");
        await("something listening on " + hostPort)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(POLL)
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(() -> {
                    try (Socket s = new Socket(hp[0], Integer.parseInt(hp[1]))) {
                        return true;
                    }
                });
    }

    /** The body of the first answer to GET {@code url}, waiting for a server that is still starting. */
    static String awaitHttpBody(String url, Duration timeout) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        return await("an answer from " + url)
                .atMost(timeout)
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsInstanceOf(IOException.class)
                .until(
                        () -> http.send(
                                        HttpRequest.newBuilder(URI.create(url)).build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .body(),
                        body -> true);
    }

    private static Optional<String> firstGroup(Path file, Pattern pattern) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Matcher m = pattern.matcher(Files.readString(file));
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    private static List<String> mountsBelow(Path root) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(l -> l.split(" ")[4])
                .filter(p -> p.startsWith(root + "/"))
                .toList();
    }
}
