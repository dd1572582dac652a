package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * COPY and ADD against links a hostile image or stage planted towards the worker's own files
 * (issue 11, requirement 1): sources and destinations resolve inside their root, and the host
 * directory and file stay as they were.
 */
@Tag("root")
class CopyHostilePathsTest {

    @TempDir
    Path tmp;

    Path context;
    Path rootfs;
    Path hostDir;
    Path hostFile;
    final CopyExecutor copier = new CopyExecutor();

    @BeforeEach
    void dirs() throws IOException {
        context = Files.createDirectories(tmp.resolve("context"));
        rootfs = Files.createDirectories(tmp.resolve("rootfs"));
        hostDir = Files.createDirectories(tmp.resolve("host"));
        hostFile = Files.writeString(hostDir.resolve("secret"), "host secret");
        Files.writeString(context.resolve("f"), "from the context");
    }

    @AfterEach
    void theHostIsUntouched() throws IOException {
        try (Stream<Path> s = Files.list(hostDir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("secret");
        }
        assertThat(hostFile).hasContent("host secret");
    }

    @Test
    void aDestinationDirectoryLinkedToTheHostIsFollowedInsideTheRootfs() throws Exception {
        Files.createSymbolicLink(rootfs.resolve("app"), hostDir);
        copy(context, List.of("f"), "/app/", false);
        assertThat(inRootfs(hostDir).resolve("f")).hasContent("from the context");
    }

    @Test
    void aDestinationFileLinkedToAHostFileIsFollowedInsideTheRootfs() throws Exception {
        Files.createDirectories(rootfs.resolve("etc"));
        Files.createSymbolicLink(rootfs.resolve("etc/conf"), hostFile);
        copy(context, List.of("f"), "/etc/conf", false);
        assertThat(inRootfs(hostFile)).hasContent("from the context");
    }

    @Test
    void aSourceThroughALinkToRootIsLookedUpInTheSourceRoot() throws Exception {
        Path stage = Files.createDirectories(tmp.resolve("stage/x"));
        Files.createSymbolicLink(stage.resolve("h"), Path.of("/"));
        assertThatThrownBy(() -> copy(stage.getParent(), List.of("/x/h" + hostFile), "/t", false))
                .isInstanceOf(CopyException.class)
                .hasMessageContaining("not found");
        assertThat(rootfs.resolve("t")).doesNotExist();
    }

    @Test
    void aLinkInsideACopiedDirectoryStaysALink() throws Exception {
        Files.createDirectories(context.resolve("src"));
        Files.createSymbolicLink(context.resolve("src/l"), hostFile);
        copy(context, List.of("src"), "/dst", false);
        assertThat(Files.readSymbolicLink(rootfs.resolve("dst/l"))).isEqualTo(hostFile);
    }

    @Test
    void anArchiveAddedIntoADirectoryLinkedToTheHostLandsInsideTheRootfs() throws Exception {
        Files.createSymbolicLink(rootfs.resolve("opt"), hostDir);
        Files.write(context.resolve("pkg.tar"), tar("pkg/bin/tool", "secret"));
        copy(context, List.of("pkg.tar"), "/opt/", true);
        assertThat(inRootfs(hostDir).resolve("pkg/bin/tool")).hasContent("content of pkg/bin/tool");
        assertThat(inRootfs(hostDir).resolve("secret")).hasContent("content of secret");
    }

    private Path inRootfs(Path hostPath) {
        return rootfs.resolve(hostPath.toString().substring(1));
    }

    private void copy(Path sourceRoot, List<String> sources, String dest, boolean extract)
            throws CopyException, IOException {
        copier.copy(
                new CopyExecutor.Request(sourceRoot, sources, dest, "/", Optional.empty(), Optional.empty(), extract),
                rootfs);
    }

    /** A plain tar of files, each holding "content of NAME". */
    static byte[] tar(String... names) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (String name : names) {
                byte[] data = ("content of " + name).getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(name);
                e.setSize(data.length);
                e.setMode(0100644);
                tar.putArchiveEntry(e);
                tar.write(data);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
