package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportMarkTest {

    @TempDir
    Path dir;

    private final Digest image = Digest.of("manifest".getBytes());

    @Test
    void anArchiveUntouchedSinceThisExportWroteItIsNotWrittenAgain() throws Exception {
        Path tar = Files.writeString(dir.resolve("image.tar"), "archive");
        ExportMark mark = ExportMark.of("DOCKER", image, List.of("app:1"));
        assertThat(mark.isAt(tar)).as("a file nobody marked").isFalse();
        mark.mark(tar);
        assertThat(mark.isAt(tar)).isTrue();

        assertThat(ExportMark.of("DOCKER", Digest.of("other".getBytes()), List.of("app:1"))
                        .isAt(tar))
                .as("another image")
                .isFalse();
        assertThat(ExportMark.of("DOCKER", image, List.of("app:2")).isAt(tar))
                .as("other names")
                .isFalse();
        assertThat(ExportMark.of("OCI", image, List.of("app:1")).isAt(tar))
                .as("another format")
                .isFalse();
        Path link = Files.createSymbolicLink(dir.resolve("link.tar"), tar);
        assertThat(mark.isAt(link)).as("a symlink is replaced, never followed").isFalse();
    }

    @Test
    void aChangedArchiveIsWrittenAgain() throws Exception {
        Path tar = Files.writeString(dir.resolve("image.tar"), "archive");
        ExportMark mark = ExportMark.of("DOCKER", image, List.of());
        mark.mark(tar);
        Files.setLastModifiedTime(tar, FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(mark.isAt(tar)).as("touched").isFalse();

        mark.mark(tar);
        FileTime before = Files.getLastModifiedTime(tar);
        Files.writeString(tar, "archive, edited");
        Files.setLastModifiedTime(tar, before);
        assertThat(mark.isAt(tar))
                .as("edited to another size, modification time put back")
                .isFalse();
    }
}
