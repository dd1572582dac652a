package dev.stagefarm.coordinator.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContextIndexTest {

    final ContextIndex context = new ContextIndex(manifest(
            "Dockerfile",
            "main.go",
            "util.go",
            "README.md",
            "cmd/",
            "cmd/app/",
            "cmd/app/main.go",
            "cmd-tools/",
            "cmd-tools/gen.go",
            "cmdx"));

    @Test
    void aDirectoryBringsEverythingBelowItButNotItsNamesakes() throws Exception {
        assertThat(paths(context.select("cmd"))).containsExactly("cmd", "cmd/app", "cmd/app/main.go");
        assertThat(paths(context.select("cmd/"))).containsExactly("cmd", "cmd/app", "cmd/app/main.go");
    }

    @Test
    void aGlobMatchesOneDirectoryLevel() throws Exception {
        assertThat(paths(context.select("*.go"))).containsExactly("main.go", "util.go");
        assertThat(paths(context.select("cmd/*/main.go"))).containsExactly("cmd/app/main.go");
    }

    @Test
    void aGlobMatchingADirectoryBringsItsContents() throws Exception {
        assertThat(paths(context.select("cmd-*"))).containsExactly("cmd-tools", "cmd-tools/gen.go");
    }

    @Test
    void dotSelectsTheWholeContext() throws Exception {
        assertThat(context.select(".")).hasSize(10);
        assertThat(context.select("./")).hasSize(10);
    }

    @Test
    void sourcesAreCleanedAndCannotClimbOutOfTheContext() throws Exception {
        assertThat(paths(context.select("./cmd/../main.go"))).containsExactly("main.go");
        assertThat(paths(context.select("../../main.go"))).containsExactly("main.go");
    }

    @Test
    void aMissingSourceSaysItMayBeIgnored() {
        assertThatThrownBy(() -> context.select("go.sum"))
                .isInstanceOf(ContextIndex.MissingSourceException.class)
                .hasMessage("\"go.sum\" not found in the build context (is it left out by .dockerignore?)");
    }

    @Test
    void aWildcardMatchingNothingSelectsNothing() throws Exception {
        assertThat(context.select("*.rs")).isEmpty();
    }

    @Test
    void aSymlinkSourceBringsWhatItPointsToSoItsContentKeysTheStep() throws Exception {
        ContextIndex linked = new ContextIndex(manifest("conf/", "conf/app.toml").toBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath("current")
                        .setType(ContextEntry.Type.SYMLINK)
                        .setLinkTarget("./conf/../conf"))
                .build());

        assertThat(paths(linked.select("current"))).containsExactly("current", "conf", "conf/app.toml");
    }

    @Test
    void aSymlinkSourcePointingNowhereIsMissing() {
        ContextIndex dangling = new ContextIndex(ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath("gone")
                        .setType(ContextEntry.Type.SYMLINK)
                        .setLinkTarget("/nowhere"))
                .build());

        assertThatThrownBy(() -> dangling.select("gone")).isInstanceOf(ContextIndex.MissingSourceException.class);
    }

    /** Paths ending in '/' are directories. */
    private static ContextManifest manifest(String... paths) {
        ContextManifest.Builder m = ContextManifest.newBuilder();
        for (String p : paths) {
            boolean dir = p.endsWith("/");
            m.addEntries(ContextEntry.newBuilder()
                    .setPath(dir ? p.substring(0, p.length() - 1) : p)
                    .setType(dir ? ContextEntry.Type.DIRECTORY : ContextEntry.Type.FILE)
                    .setMode(dir ? 0755 : 0644)
                    .setDigest(dir ? "" : "sha256:" + Integer.toHexString(p.hashCode())));
        }
        return m.build();
    }

    private static List<String> paths(List<ContextEntry> entries) {
        return entries.stream().map(ContextEntry::getPath).toList();
    }
}
