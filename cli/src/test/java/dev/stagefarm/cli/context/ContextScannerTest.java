package dev.stagefarm.cli.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContextScannerTest {

    @TempDir
    Path tmp;

    @Test
    void entriesComeInTreeOrderWithExcludedPathsLeftOut() throws IOException {
        Path ctx = tree(tmp.resolve("ctx"), false);

        ContextScanner.ScannedContext scanned = scan(ctx);

        assertThat(paths(scanned.manifest()))
                .containsExactly(
                        ".dockerignore",
                        "Dockerfile",
                        "bin",
                        "bin/tool",
                        "build",
                        "build/keep.txt",
                        "cmd",
                        "cmd/app",
                        "cmd/app/main.go",
                        "docs",
                        "link",
                        "main.go");
    }

    @Test
    void aSecondNameOfAFileIsAHardLinkToTheFirstWithTheSameContent() throws IOException {
        Path ctx = Files.createDirectories(tmp.resolve("linked"));
        Files.writeString(ctx.resolve("a.txt"), "same\n");
        Files.createLink(ctx.resolve("b.txt"), ctx.resolve("a.txt"));
        Files.writeString(ctx.resolve("c.txt"), "same\n");

        ContextScanner.ScannedContext scanned = new ContextScanner(DockerIgnore.none()).scan(ctx);
        Map<String, ContextEntry> entries = byPath(scanned.manifest());

        assertThat(entries.get("a.txt").getType()).isEqualTo(ContextEntry.Type.FILE);
        assertThat(entries.get("b.txt").getType()).isEqualTo(ContextEntry.Type.HARDLINK);
        assertThat(entries.get("b.txt").getLinkTarget()).isEqualTo("a.txt");
        assertThat(entries.get("b.txt").getDigest())
                .isEqualTo(entries.get("a.txt").getDigest());
        assertThat(entries.get("c.txt").getType())
                .as("equal content is no link")
                .isEqualTo(ContextEntry.Type.FILE);
        assertThat(scanned.totalBytes()).as("a linked file is sent once").isEqualTo(10);
    }

    @Test
    void anExcludedDirectoryStaysWhenAnExceptionKeepsAFileBelowIt() throws IOException {
        Map<String, ContextEntry> entries =
                byPath(scan(tree(tmp.resolve("ctx"), false)).manifest());
        assertThat(entries.get("build").getType()).isEqualTo(ContextEntry.Type.DIRECTORY);
        assertThat(entries).containsKey("build/keep.txt").doesNotContainKeys("build/out.bin", "app.log");
    }

    @Test
    void filesCarryModeSizeAndContentDigest() throws IOException {
        Path ctx = tree(tmp.resolve("ctx"), false);
        ContextScanner.ScannedContext scanned = scan(ctx);
        Map<String, ContextEntry> entries = byPath(scanned.manifest());

        ContextEntry tool = entries.get("bin/tool");
        assertThat(tool.getMode()).as("setuid kept").isEqualTo(04755);
        ContextEntry main = entries.get("main.go");
        byte[] mainBytes = Files.readAllBytes(ctx.resolve("main.go"));
        assertThat(main.getMode()).isEqualTo(0644);
        assertThat(main.getSize()).isEqualTo(mainBytes.length);
        assertThat(main.getDigest()).isEqualTo(Digest.of(mainBytes).toString());
        assertThat(scanned.files()).containsEntry(Digest.of(mainBytes), ctx.resolve("main.go"));
        assertThat(entries.get("cmd").getType()).isEqualTo(ContextEntry.Type.DIRECTORY);
        assertThat(entries.get("cmd").getMode()).isEqualTo(0755);
        assertThat(scanned.totalBytes())
                .isEqualTo(entries.values().stream()
                        .mapToLong(ContextEntry::getSize)
                        .sum())
                .isPositive();
    }

    @Test
    void symlinksAreRecordedNotFollowed() throws IOException {
        Map<String, ContextEntry> entries =
                byPath(scan(tree(tmp.resolve("ctx"), false)).manifest());

        assertThat(entries.get("link").getType()).isEqualTo(ContextEntry.Type.SYMLINK);
        assertThat(entries.get("link").getLinkTarget()).isEqualTo("/etc/passwd");
        assertThat(entries.get("link").getDigest()).isEmpty();
        assertThat(entries.get("docs").getType()).isEqualTo(ContextEntry.Type.SYMLINK);
        assertThat(entries.get("docs").getLinkTarget()).isEqualTo("cmd");
        assertThat(entries.keySet()).noneMatch(p -> p.startsWith("docs/"));
    }

    @Test
    void identicalTreesGiveIdenticalManifestBytes() throws IOException {
        ContextManifest a = scan(tree(tmp.resolve("a"), false)).manifest();
        ContextManifest b = scan(tree(tmp.resolve("b"), true)).manifest();

        assertThat(b.toByteArray()).isEqualTo(a.toByteArray());

        Files.writeString(tmp.resolve("b/cmd/app/main.go"), "package main // changed\n");
        assertThat(scan(tmp.resolve("b")).manifest().toByteArray()).isNotEqualTo(a.toByteArray());
    }

    @Test
    void aContextThatIsNotADirectoryIsRefused() throws IOException {
        Path file = Files.writeString(tmp.resolve("Dockerfile"), "FROM scratch\n");
        assertThatThrownBy(() -> new ContextScanner(DockerIgnore.none()).scan(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("is not a directory");
    }

    // ---- helpers ----

    /**
     * A small Go project; {@code reversed} creates it in the opposite order with other times,
     * neither of which may show in the manifest.
     */
    private static Path tree(Path ctx, boolean reversed) throws IOException {
        List<IoAction> steps = List.of(
                () -> write(ctx, ".dockerignore", "build\n!build/keep.txt\n*.log\n", 0644),
                () -> write(ctx, "Dockerfile", "FROM scratch\nCOPY . /\n", 0644),
                () -> write(ctx, "main.go", "package main\n", 0644),
                () -> write(ctx, "app.log", "noise\n", 0644),
                () -> write(ctx, "bin/tool", "#!/bin/sh\n", 04755),
                () -> write(ctx, "build/out.bin", "binary", 0644),
                () -> write(ctx, "build/keep.txt", "keep me", 0644),
                () -> write(ctx, "cmd/app/main.go", "package main // app\n", 0644),
                () -> Files.createSymbolicLink(ctx.resolve("link"), Path.of("/etc/passwd")),
                () -> Files.createSymbolicLink(ctx.resolve("docs"), Path.of("cmd")));
        Files.createDirectories(ctx);
        for (IoAction step : reversed ? steps.reversed() : steps) {
            step.run();
        }
        try (Stream<Path> all = Files.walk(ctx)) {
            for (Path p : all.toList()) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.setAttribute(p, "unix:mode", 0755);
                }
                if (reversed && !Files.isSymbolicLink(p)) {
                    Files.setLastModifiedTime(p, FileTime.fromMillis(86_400_000L));
                }
            }
        }
        return ctx;
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void write(Path ctx, String rel, String text, int mode) throws IOException {
        Path p = ctx.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
        Files.setAttribute(p, "unix:mode", mode);
    }

    private static ContextScanner.ScannedContext scan(Path ctx) throws IOException {
        return new ContextScanner(DockerIgnore.forBuild(ctx, ctx.resolve("Dockerfile"))).scan(ctx);
    }

    private static List<String> paths(ContextManifest m) {
        return m.getEntriesList().stream().map(ContextEntry::getPath).toList();
    }

    private static Map<String, ContextEntry> byPath(ContextManifest m) {
        return m.getEntriesList().stream().collect(Collectors.toMap(ContextEntry::getPath, Function.identity()));
    }
}
