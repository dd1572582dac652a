package dev.stagefarm.oci.layer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The digest later stages are keyed on: it follows what a COPY takes (bytes, mode, link
 * targets, names), never mtimes, while the blob itself keeps the mtimes.
 */
class ArtifactContentDigestTest {

    @TempDir
    Path tmp;

    private final LayerWriter writer = new LayerWriter(LayerWriter.Options.zstd());
    private Path root;
    private int n;

    @BeforeEach
    void stage() throws Exception {
        root = Files.createDirectories(tmp.resolve("rootfs"));
        Files.createDirectories(root.resolve("out/sub"));
        Files.writeString(root.resolve("out/app"), "binary");
        Files.writeString(root.resolve("out/sub/data"), "data");
        Files.createSymbolicLink(root.resolve("out/current"), Path.of("app"));
        Files.createLink(root.resolve("out/app-alias"), root.resolve("out/app"));
        touchAll(Instant.parse("2026-01-01T00:00:00Z"));
    }

    @Test
    void newMtimesChangeTheBlobButNotTheContentDigest() throws Exception {
        ArtifactBlob before = export("/out");
        touchAll(Instant.parse("2026-06-01T12:00:00Z"));
        ArtifactBlob after = export("/out");

        assertThat(after.blob().digest())
                .as("the blob keeps mtimes")
                .isNotEqualTo(before.blob().digest());
        assertThat(after.content()).isEqualTo(before.content());
    }

    @Test
    void bytesModeLinkTargetAndNamesEachChangeIt() throws Exception {
        Digest base = export("/out").content();

        Files.writeString(root.resolve("out/sub/data"), "datA");
        Digest bytes = export("/out").content();
        Files.writeString(root.resolve("out/sub/data"), "data");
        assertThat(export("/out").content()).isEqualTo(base);

        Files.setAttribute(root.resolve("out/sub/data"), "unix:mode", 0600);
        Digest mode = export("/out").content();
        Files.setAttribute(root.resolve("out/sub/data"), "unix:mode", 0644);

        Files.delete(root.resolve("out/current"));
        Files.createSymbolicLink(root.resolve("out/current"), Path.of("sub/data"));
        Digest link = export("/out").content();

        Files.move(root.resolve("out/sub/data"), root.resolve("out/sub/data2"));
        Digest renamed = export("/out").content();

        assertThat(List.of(bytes, mode, link, renamed)).doesNotContain(base).doesNotHaveDuplicates();
    }

    @Test
    void parentsOnlyThereToHoldTheSelectionDoNotCount() throws Exception {
        Digest base = export("/out/sub/data").content();
        Files.setAttribute(root.resolve("out"), "unix:mode", 0700);
        Files.writeString(root.resolve("out/app"), "not selected, changed");

        assertThat(export("/out/sub/data").content()).isEqualTo(base);
        // a selected directory's own mode is what a copy of it takes
        assertThat(export("/out").content())
                .isNotEqualTo(export("/out/sub/data").content());
    }

    private ArtifactBlob export(String path) throws Exception {
        return writer.writeSelected(root, List.of(path), tmp.resolve("a" + n++ + ".tzst"));
    }

    private void touchAll(Instant t) throws Exception {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                if (!Files.isSymbolicLink(p)) {
                    Files.setLastModifiedTime(p, FileTime.from(t));
                }
            }
        }
    }
}
