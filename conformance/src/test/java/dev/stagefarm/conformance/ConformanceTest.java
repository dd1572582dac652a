package dev.stagefarm.conformance;

import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * The conformance suite: every case in conformance/cases is built with stagefarm and checked
 * against its expect.json; a differential case is also built with BuildKit (docker.io's dockerd
 * 20.10) and the two images are compared file by file and field by field. Cases whose feature is
 * not implemented yet live in conformance/pending and are not run.
 */
@Tag("e2e")
class ConformanceTest {

    static final Path CASES = Path.of("cases").toAbsolutePath();
    private static Suite suite;

    @BeforeAll
    static void startSuite() throws Exception {
        suite = new Suite(Path.of("target/conformance").toAbsolutePath());
    }

    @AfterAll
    static void stopSuite() throws Exception {
        if (suite != null) {
            suite.writeTimings();
            Suite.removeTree(suite.work().resolve("stagefarm-data"));
        }
    }

    @TestFactory
    Stream<DynamicNode> cases() {
        // -Dconformance.only=REGEX runs the matching cases only, for working on one feature
        Pattern only = Pattern.compile(System.getProperty("conformance.only", ".*"));
        // -Dconformance.dir=pending tries the pending cases, to see which a new feature now passes
        Path dir =
                Path.of(System.getProperty("conformance.dir", CASES.toString())).toAbsolutePath();
        return ConformanceCase.all(dir).stream()
                .filter(c -> only.matcher(c.name()).find())
                .map(c -> {
                    CaseRun run = new CaseRun(c, suite);
                    List<DynamicNode> tests = new ArrayList<>();
                    // the case name leads every test name: reports list tests by name, without their container
                    tests.add(dynamicTest(
                            c.name()
                                    + (c.expectsFailure()
                                            ? ": stagefarm refuses it as expected"
                                            : ": stagefarm builds it as expected"),
                            c.dir().toUri(),
                            run::checkStagefarm));
                    if (c.differential()) {
                        tests.add(dynamicTest(
                                c.name()
                                        + (c.expectsFailure()
                                                ? ": BuildKit refuses it too"
                                                : ": BuildKit builds the same image"),
                                c.dir().toUri(),
                                run::compareWithBuildKit));
                    }
                    return dynamicContainer(c.name() + ": " + c.about(), c.dir().toUri(), tests.stream());
                });
    }
}
