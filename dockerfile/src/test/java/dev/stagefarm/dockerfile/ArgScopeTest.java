package dev.stagefarm.dockerfile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** ARG resolution: global ARGs with the platform ARGs, and ARGs inside a stage. */
class ArgScopeTest {

    static Dockerfile parse(String text) throws DockerfileException {
        return DockerfileParser.parse(text, "Dockerfile");
    }

    @Test
    void platformArgsAreGlobalWithoutADeclarationAndABuildArgOverridesThem() throws Exception {
        Dockerfile df = parse("ARG TOOL=tool-${TARGETARCH}\nFROM ${TOOL}\n");
        assertThat(GlobalArgs.resolve(df, Map.of()))
                .containsEntry("TARGETARCH", "amd64")
                .containsEntry("TARGETPLATFORM", "linux/amd64")
                .containsEntry("TOOL", "tool-amd64");
        assertThat(GlobalArgs.resolve(df, Map.of("TARGETARCH", "arm64"))).containsEntry("TOOL", "tool-arm64");
    }

    @Test
    void globalDefaultsUseEarlierOnesAndBuildArgsWin() throws Exception {
        Dockerfile df = parse("ARG A=a\nARG B=${A}-b\nARG C\nFROM scratch\n");
        assertThat(GlobalArgs.resolve(df, Map.of())).containsEntry("B", "a-b").doesNotContainKey("C");
        assertThat(GlobalArgs.resolve(df, Map.of("A", "x", "C", "c")))
                .containsEntry("B", "x-b")
                .containsEntry("C", "c");
        // a build arg no ARG declares stays out of the globals
        assertThat(GlobalArgs.resolve(df, Map.of("OTHER", "o"))).doesNotContainKey("OTHER");
    }

    @Test
    void aStageArgTakesTheBuildArgThenItsDefaultThenTheGlobal() throws Exception {
        ArgScope scope = new ArgScope(
                name -> Optional.ofNullable(Map.of("GIVEN", "from-cli").get(name)),
                Map.of("GLOBAL", "g", "TARGETOS", "linux"));
        assertThat(scope.declare(new ArgDef("GIVEN", Optional.of("default")), n -> Optional.empty(), '\\'))
                .contains("from-cli");
        assertThat(scope.declare(new ArgDef("D", Optional.of("${GIVEN}-d")), scope::value, '\\'))
                .contains("from-cli-d");
        assertThat(scope.declare(new ArgDef("GLOBAL", Optional.empty()), scope::value, '\\'))
                .contains("g");
        assertThat(scope.declare(new ArgDef("TARGETOS", Optional.empty()), scope::value, '\\'))
                .contains("linux");
        assertThat(scope.declare(new ArgDef("UNSET", Optional.empty()), scope::value, '\\'))
                .isEmpty();

        assertThat(scope.values())
                .isEqualTo(Map.of("GIVEN", "from-cli", "D", "from-cli-d", "GLOBAL", "g", "TARGETOS", "linux"));
        assertThat(scope.declared()).containsExactly("GIVEN", "D", "GLOBAL", "TARGETOS", "UNSET");
    }

    @Test
    void aCopyCarriesTheArgsOnWithoutSharingLaterDeclarations() throws Exception {
        ArgScope base = new ArgScope(name -> Optional.empty(), Map.of());
        base.declare(new ArgDef("GREETING", Optional.of("hello")), n -> Optional.empty(), '\\');

        ArgScope derived = base.copy();
        derived.declare(new ArgDef("MORE", Optional.of("x")), n -> Optional.empty(), '\\');
        // a re-declaration without a value keeps the value it carries (BuildKit's state keeps it)
        derived.declare(new ArgDef("GREETING", Optional.empty()), n -> Optional.empty(), '\\');

        assertThat(derived.value("GREETING")).contains("hello");
        assertThat(derived.declared()).containsExactly("GREETING", "MORE");
        assertThat(base.value("MORE")).isEmpty();
    }
}
