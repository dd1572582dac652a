package dev.stagefarm.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

/**
 * One case through the suite: its context laid out once, built once with stagefarm and checked
 * against its expectations, then (for differential cases) built with BuildKit and compared.
 */
final class CaseRun {

    private final ConformanceCase c;
    private final Suite suite;
    private final Path work;
    private Path context;
    private BuildOutcome stagefarm;
    /** BuildKit builds alongside stagefarm's build of the same case: two builders, one wait. */
    private Future<BuildOutcome> buildkit;
    /** Known differences (by regex) that some mismatch of this case matched. */
    private final Set<String> knownSeen = new HashSet<>();

    CaseRun(ConformanceCase c, Suite suite) {
        this.c = c;
        this.suite = suite;
        this.work = suite.work().resolve(c.name());
    }

    void checkStagefarm() throws IOException, InterruptedException {
        if (c.differential()) {
            Path ctx = context();
            buildkit = suite.background().submit(() -> {
                Instant t0 = Instant.now();
                BuildOutcome theirs = suite.buildkit().build(c, ctx, work);
                suite.timing(c.name(), "BuildKit", Duration.between(t0, Instant.now()));
                return theirs;
            });
        }
        BuildOutcome outcome = stagefarm();
        try {
            if (c.expectsFailure()) {
                assertThat(outcome.succeeded())
                        .as("stagefarm should refuse this build, but it succeeded")
                        .isFalse();
                report(Expectations.checkFailure(c, outcome.result()), outcome);
                return;
            }
            BuiltImage image = outcome.requireImage();
            report(unknown(Expectations.check(c, image, FileTree.read(image.rootfs()))), outcome);
            if (!c.differential()) {
                assertNoStaleKnownDifferences();
            }
        } finally {
            if (!c.differential()) {
                clean();
            }
        }
    }

    void compareWithBuildKit() throws IOException, InterruptedException {
        try {
            BuildOutcome theirs = buildkitOutcome();
            BuildOutcome ours = stagefarm();
            if (c.expectsFailure()) {
                assertThat(theirs.succeeded())
                        .as("BuildKit builds this case, which stagefarm is expected to refuse")
                        .isFalse();
                return;
            }
            BuiltImage mine = ours.requireImage();
            BuiltImage ref = theirs.requireImage();
            List<String> diffs = new ArrayList<>(ConfigFields.compare(mine.config(), ref.config()));
            diffs.addAll(ConfigFields.compareHistory(mine.history(), ref.history()));
            diffs.addAll(
                    TreeComparison.compare(FileTree.read(mine.rootfs()), FileTree.read(ref.rootfs()), ref.started()));
            assertThat(unknown(diffs))
                    .as("stagefarm's image differs from BuildKit's (" + work + ")")
                    .isEmpty();
            assertNoStaleKnownDifferences();
        } finally {
            clean();
        }
    }

    /** The mismatches no known difference of the case explains. */
    private List<String> unknown(List<String> mismatches) {
        List<String> left = new ArrayList<>();
        for (String m : mismatches) {
            boolean known = false;
            for (Pattern p : c.knownDifferences()) {
                if (p.matcher(m).find()) {
                    knownSeen.add(p.pattern());
                    known = true;
                }
            }
            if (!known) {
                left.add(m);
            }
        }
        return left;
    }

    private void assertNoStaleKnownDifferences() {
        List<String> stale = c.knownDifferences().stream()
                .map(Pattern::pattern)
                .filter(p -> !knownSeen.contains(p))
                .toList();
        assertThat(stale)
                .as(c.name() + ": these known differences no longer happen; remove them from expect.json"
                        + " and from README.md's \"Known differences\"")
                .isEmpty();
    }

    private BuildOutcome buildkitOutcome() throws IOException, InterruptedException {
        if (buildkit == null) {
            throw new IllegalStateException("the stagefarm test of " + c.name() + " did not run first");
        }
        try {
            return buildkit.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AssertionError a) {
                throw a;
            }
            throw new IOException("BuildKit build of " + c.name() + " failed to run", e.getCause());
        }
    }

    private BuildOutcome stagefarm() throws IOException, InterruptedException {
        if (stagefarm == null) {
            Instant t0 = Instant.now();
            stagefarm = suite.stagefarm().build(c, context(), work);
            suite.timing(c.name(), "stagefarm", Duration.between(t0, Instant.now()));
        }
        return stagefarm;
    }

    private Path context() throws IOException, InterruptedException {
        if (context == null) {
            Files.createDirectories(work);
            context = ContextPreparer.prepare(c, work);
        }
        return context;
    }

    private void report(List<String> problems, BuildOutcome outcome) {
        assertThat(problems)
                .as(c.name() + " (" + c.about() + ")\n--- build output ---\n"
                        + Processes.tail(outcome.result().output()) + "\n---")
                .isEmpty();
    }

    /** Unpacked images are large (the 50 MB and 5,000-file cases); logs stay for a failing case. */
    private void clean() throws IOException, InterruptedException {
        for (String dir : List.of("stagefarm-layout", "stagefarm-bundle", "buildkit-rootfs", "context")) {
            Suite.removeTree(work.resolve(dir));
        }
    }
}
