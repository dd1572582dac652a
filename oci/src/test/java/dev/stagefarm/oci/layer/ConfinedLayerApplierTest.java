package dev.stagefarm.oci.layer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hostile image's layers written with {@code --output type=local}: nothing lands outside DIR. */
class ConfinedLayerApplierTest {

    @TempDir
    Path tmp;

    /** A layer as a build author could craft it (with ADD rootfs.tar /, or by hand). */
    private static final class Layer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar;

        Layer() throws IOException {
            tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes));
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        }

        Layer dir(String name) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name + "/");
            e.setMode(040755);
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
            return this;
        }

        Layer file(String name, String content) throws IOException {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100644);
            e.setSize(data.length);
            tar.putArchiveEntry(e);
            tar.write(data);
            tar.closeArchiveEntry();
            return this;
        }

        Layer symlink(String name, String target) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            e.setLinkName(target);
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
            return this;
        }

        Layer hardLink(String name, String target) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
            e.setLinkName(target);
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
            return this;
        }

        ByteArrayInputStream stream() throws IOException {
            tar.close();
            return new ByteArrayInputStream(bytes.toByteArray());
        }
    }

    private Path export(Layer... layers) throws IOException {
        Path dir = tmp.resolve("out");
        try (ConfinedLayerApplier applier = ConfinedLayerApplier.open(dir)) {
            for (Layer l : layers) {
                applier.apply(l.stream());
            }
            applier.finish();
        }
        return dir;
    }

    @Test
    void aLinkToTheHostRootIsFollowedInsideDir() throws IOException {
        Path host = Files.createDirectories(tmp.resolve("host"));
        Path out = export(
                new Layer().symlink("x", "/").symlink("e", "/etc").symlink("h", host.toString()),
                new Layer()
                        .file("x/etc/passwd", "evil\n")
                        .file("e/shadow", "evil\n")
                        .file("h/sentinel", "evil\n")
                        .file("x/../../../escaped", "evil\n"));

        assertThat(out.resolve("etc/passwd")).hasContent("evil");
        assertThat(out.resolve("etc/shadow")).hasContent("evil");
        assertThat(out.resolve(host.toString().substring(1)).resolve("sentinel"))
                .hasContent("evil");
        assertThat(out.resolve("escaped")).hasContent("evil");
        assertThat(host.resolve("sentinel")).doesNotExist();
        assertThat(tmp.resolve("escaped")).doesNotExist();
        assertThat(Files.readSymbolicLink(out.resolve("x"))).isEqualTo(Path.of("/"));
    }

    @Test
    void aFileNamedLikeALinkReplacesTheLinkInsteadOfWritingThroughIt() throws IOException {
        Path victim = Files.writeString(tmp.resolve("victim"), "untouched");
        Path out = export(new Layer().symlink("a", victim.toString()), new Layer().file("a", "new\n"));

        assertThat(victim).hasContent("untouched");
        assertThat(Files.isSymbolicLink(out.resolve("a"))).isFalse();
        assertThat(out.resolve("a")).hasContent("new");
    }

    @Test
    void aHardLinkToAHostFileIsRefused() throws IOException {
        Path secret = Files.writeString(tmp.resolve("secret"), "host secret");
        Layer hostile = new Layer().symlink("s", secret.toString()).hardLink("copy", "s");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> export(hostile))
                .hasMessageContaining("hard-links to s, which is not an earlier file of the image");
        assertThat(tmp.resolve("out/copy")).doesNotExist();
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesGiveTheFinalFilesystem() throws IOException {
        Path out = export(
                new Layer()
                        .dir("etc")
                        .file("etc/a", "a")
                        .file("etc/b", "b")
                        .dir("var")
                        .file("var/old", "x"),
                new Layer()
                        .file("etc/.wh.a", "")
                        .dir("var")
                        .file("var/.wh..wh..opq", "")
                        .file("var/new", "n"),
                new Layer().file("etc/c", "c").hardLink("etc/c2", "etc/c"));

        assertThat(out.resolve("etc/a")).doesNotExist();
        assertThat(out.resolve("etc/b")).hasContent("b");
        assertThat(out.resolve("var/old")).doesNotExist();
        assertThat(out.resolve("var/new")).hasContent("n");
        assertThat(out.resolve("etc/c2")).hasContent("c");
        assertThat(Files.getAttribute(out.resolve("etc/c2"), "unix:nlink", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(2);
    }

    @Test
    void aWhiteoutThroughALinkDeletesInsideDirOnly() throws IOException {
        Path host = Files.createDirectories(tmp.resolve("keep"));
        Files.writeString(host.resolve("precious"), "p");
        export(new Layer().symlink("k", host.toString()), new Layer().file("k/.wh.precious", ""));
        assertThat(host.resolve("precious")).hasContent("p");
    }
}
