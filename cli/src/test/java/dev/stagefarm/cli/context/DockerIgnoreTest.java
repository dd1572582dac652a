package dev.stagefarm.cli.context;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerIgnoreTest {

    @Test
    void aStarStaysInItsDirectory() {
        DockerIgnore ignore = DockerIgnore.parse("*.log\n");
        assertThat(ignore.excludes("app.log")).isTrue();
        assertThat(ignore.excludes("logs/app.log")).isFalse();
        assertThat(ignore.excludes("app.log.txt")).isFalse();
    }

    @Test
    void doubleStarMatchesAnyDepthIncludingNone() {
        DockerIgnore ignore = DockerIgnore.parse("**/*.tmp\n");
        assertThat(ignore.excludes("a.tmp")).isTrue();
        assertThat(ignore.excludes("x/y/b.tmp")).isTrue();
        assertThat(ignore.excludes("x/y/b.tmpl")).isFalse();
    }

    @Test
    void anExceptionAfterAnExclusionBringsAFileBack() {
        DockerIgnore ignore = DockerIgnore.parse("*.log\n!keep.log\n");
        assertThat(ignore.excludes("other.log")).isTrue();
        assertThat(ignore.excludes("keep.log")).isFalse();
    }

    @Test
    void theLastMatchingRuleWins() {
        DockerIgnore ignore = DockerIgnore.parse("!keep.log\n*.log\n");
        assertThat(ignore.excludes("keep.log")).isTrue();
    }

    @Test
    void aLeadingSlashIsDropped() {
        DockerIgnore ignore = DockerIgnore.parse("/secret.txt\n/build\n");
        assertThat(ignore.excludes("secret.txt")).isTrue();
        assertThat(ignore.excludes("build/out/app.bin")).isTrue();
        assertThat(ignore.excludes("src/secret.txt")).isFalse();
    }

    @Test
    void aRuleMatchingADirectoryExcludesEverythingBelowIt() {
        DockerIgnore ignore = DockerIgnore.parse("node_modules\n");
        assertThat(ignore.excludes("node_modules")).isTrue();
        assertThat(ignore.excludes("node_modules/left-pad/index.js")).isTrue();
        assertThat(ignore.excludes("web/node_modules/x.js"))
                .as("only at the root")
                .isFalse();
        assertThat(ignore.excludes("node_modules_backup")).isFalse();
    }

    @Test
    void anExcludedDirectoryIsWalkedOnlyWhenAnExceptionCouldReachBelowIt() {
        DockerIgnore ignore = DockerIgnore.parse("build\n!build/keep.txt\n");
        assertThat(ignore.excludes("build")).isTrue();
        assertThat(ignore.excludes("build/keep.txt")).isFalse();
        assertThat(ignore.excludes("build/other.txt")).isTrue();
        assertThat(ignore.mayIncludeBelow("build")).isTrue();
        assertThat(DockerIgnore.parse("build\n").mayIncludeBelow("build")).isFalse();
    }

    @Test
    void commentsBlankLinesAndCarriageReturnsAreIgnored() {
        DockerIgnore ignore = DockerIgnore.parse("# build output\r\n\r\n  dist  \r\n#*.go\r\n");
        assertThat(ignore.excludes("dist/app.js")).isTrue();
        assertThat(ignore.excludes("main.go")).isFalse();
        assertThat(ignore.excludes("# build output")).isFalse();
    }

    @Test
    void dotDotAndDotInRulesAreCleaned() {
        DockerIgnore ignore = DockerIgnore.parse("./docs/../tmp\n");
        assertThat(ignore.excludes("tmp/x")).isTrue();
        assertThat(ignore.excludes("docs")).isFalse();
    }

    @Test
    void aDockerfileSpecificIgnoreFileWinsOverTheContexts(@TempDir Path ctx) throws Exception {
        Files.writeString(ctx.resolve(".dockerignore"), "*.md\n");
        Path dockerfile = Files.createDirectories(ctx.resolve("docker")).resolve("app.Dockerfile");
        Files.writeString(dockerfile, "FROM scratch\n");

        DockerIgnore general = DockerIgnore.forBuild(ctx, dockerfile);
        assertThat(general.excludes("README.md")).isTrue();

        Files.writeString(ctx.resolve("docker/app.Dockerfile.dockerignore"), "*.txt\n");
        DockerIgnore specific = DockerIgnore.forBuild(ctx, dockerfile);
        assertThat(specific.excludes("notes.txt")).isTrue();
        assertThat(specific.excludes("README.md"))
                .as("the context's file is not read at all")
                .isFalse();
    }

    @Test
    void withoutAnIgnoreFileNothingIsExcluded(@TempDir Path ctx) throws Exception {
        DockerIgnore ignore = DockerIgnore.forBuild(ctx, ctx.resolve("Dockerfile"));
        assertThat(ignore.excludes("anything/at/all")).isFalse();
    }
}
