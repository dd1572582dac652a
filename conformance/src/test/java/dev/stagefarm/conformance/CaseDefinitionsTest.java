package dev.stagefarm.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The case files themselves: well-formed, uniquely numbered, and every pending case explained. */
class CaseDefinitionsTest {

    private static final Path PENDING = Path.of("pending").toAbsolutePath();

    @Test
    void everyCaseParsesAndIsNumberedOnce() {
        List<ConformanceCase> all = new ArrayList<>(ConformanceCase.all(ConformanceTest.CASES));
        all.addAll(ConformanceCase.all(PENDING));
        Set<String> numbers = new HashSet<>();
        for (ConformanceCase c : all) {
            assertThat(c.name()).as("case directory name").matches("\\d{2,3}-[a-z0-9-]+");
            assertThat(numbers.add(c.name().split("-")[0]))
                    .as("number of " + c.name() + " is used twice")
                    .isTrue();
            assertThat(c.about()).as(c.name() + " says what it is about").isNotBlank();
        }
        assertThat(all).as("issue 3 asks for at least 60 cases").hasSizeGreaterThanOrEqualTo(60);
    }

    @Test
    void everyPendingCaseSaysWhatIsMissing() throws IOException {
        String readme = Files.readString(PENDING.resolve("README.md"));
        for (ConformanceCase c : ConformanceCase.all(PENDING)) {
            assertThat(readme).as("pending/README.md explains " + c.name()).contains("`" + c.name() + "`");
        }
    }
}
