package dev.stagefarm.oci.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.linux.LinuxFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("root")
class LayerUnpackerTest {

    @TempDir
    Path tmp;

    private final LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults());
    private final LayerUnpacker unpacker = new LayerUnpacker();

    @Test
    void overlayRoundTripGivesBackTheUpperDir() throws Exception {
        Path upper = LayerWriterTest.upperDir(tmp.resolve("upper"));
        Files.setLastModifiedTime(upper.resolve("usr/local/bin"), FileTime.from(Instant.ofEpochSecond(1234)));
        // a whiteout made in an earlier second than the unpack: its time must come from the layer
        LinuxFiles.utimensNoFollow(upper.resolve("etc/old.conf"), 1234, 0);
        LayerBlob blob = writer.writeUpperDir(upper, tmp.resolve("l.tgz"));

        Path lower = tmp.resolve("lower");
        LayerUnpacker.Result r = unpacker.unpack(blob.file(), lower, LayerUnpacker.Mode.OVERLAY, blob.digest());

        assertThat(r.diffId()).isEqualTo(blob.diffId());
        assertThat(r.digest()).isEqualTo(blob.digest());
        assertThat(LinuxFiles.isWhiteout(lower.resolve("etc/old.conf"))).isTrue();
        assertThat(LinuxFiles.isOpaque(lower.resolve("var/cache"))).isTrue();
        Path tool = lower.resolve("usr/local/bin/tool");
        assertThat(Files.getAttribute(tool, "unix:mode")).isEqualTo(0100000 | 04755);
        assertThat(Files.getAttribute(tool, "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(tool, "unix:ino"))
                .isEqualTo(Files.getAttribute(lower.resolve("usr/local/bin/tool-alias"), "unix:ino"));
        assertThat(Files.readSymbolicLink(lower.resolve("usr/local/bin/t"))).isEqualTo(Path.of("tool"));
        assertThat(LinuxFiles.getXattr(tool, "user.origin"))
                .hasValueSatisfying(v -> assertThat(v).asString().isEqualTo("stagefarm"));
        assertThat(Files.getLastModifiedTime(lower.resolve("usr/local/bin")).toInstant())
                .isEqualTo(Instant.ofEpochSecond(1234));
        assertThat(Files.getAttribute(lower.resolve("tmp"), "unix:mode")).isEqualTo(040000 | 01777);

        // what we unpacked turns back into the very same layer
        LayerBlob again = writer.writeUpperDir(lower, tmp.resolve("again.tgz"));
        assertThat(again.digest()).isEqualTo(blob.digest());
    }

    @Test
    void flatApplyDeletesWhiteoutsAndEmptiesOpaqueDirs() throws Exception {
        Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/old.conf"), "old");
        Files.writeString(rootfs.resolve("etc/keep.conf"), "keep");
        Files.createDirectories(rootfs.resolve("var/cache/apt"));
        Files.writeString(rootfs.resolve("var/cache/apt/pkgcache.bin"), "big");
        LayerBlob blob = writer.writeUpperDir(LayerWriterTest.upperDir(tmp.resolve("upper")), tmp.resolve("l.tgz"));

        unpacker.unpack(blob.file(), rootfs, LayerUnpacker.Mode.FLAT, blob.digest());

        assertThat(rootfs.resolve("etc/old.conf")).doesNotExist();
        assertThat(rootfs.resolve("etc/keep.conf")).hasContent("keep");
        assertThat(rootfs.resolve("etc/new.conf")).hasContent("k=v");
        assertThat(rootfs.resolve("var/cache").toFile().list()).containsExactly("fresh");
    }

    @Test
    void refusesEntriesEscapingTheRoot() throws Exception {
        byte[] dotdot = tar(e("../../evil", "x"));
        assertThatThrownBy(() -> unpacker.unpack(
                        new ByteArrayInputStream(dotdot), tmp.resolve("a"), LayerUnpacker.Mode.FLAT, null))
                .hasMessageContaining("escapes");

        TarArchiveEntry link = new TarArchiveEntry("etc", TarArchiveEntry.LF_SYMLINK);
        link.setLinkName("/" + tmp.resolve("victim"));
        byte[] viaSymlink = tar(link, e("etc/passwd", "pwned"));
        Files.createDirectories(tmp.resolve("victim"));
        assertThatThrownBy(() -> unpacker.unpack(
                        new ByteArrayInputStream(viaSymlink), tmp.resolve("b"), LayerUnpacker.Mode.OVERLAY, null))
                .hasMessageContaining("symlink");
        assertThat(tmp.resolve("victim/passwd")).doesNotExist();
    }

    @Test
    void aDirectoryReplacedByASymlinkLaterInTheLayerIsNotWrittenThrough() throws Exception {
        // etc/ is first a real directory the layer writes into, then a symlink out of the root
        TarArchiveEntry dir = new TarArchiveEntry("etc/", TarArchiveEntry.LF_DIR);
        dir.setMode(0755);
        TarArchiveEntry link = new TarArchiveEntry("etc", TarArchiveEntry.LF_SYMLINK);
        link.setLinkName("/" + tmp.resolve("victim"));
        byte[] layer = tar(dir, e("etc/hosts", "127.0.0.1 localhost"), link, e("etc/passwd", "pwned"));
        Files.createDirectories(tmp.resolve("victim"));

        for (LayerUnpacker.Mode mode : LayerUnpacker.Mode.values()) {
            assertThatThrownBy(() ->
                            unpacker.unpack(new ByteArrayInputStream(layer), tmp.resolve(mode.name()), mode, null))
                    .hasMessageContaining("symlink");
        }
        assertThat(tmp.resolve("victim/passwd")).doesNotExist();
    }

    @Test
    void plainTarIsDetectedAndADigestMismatchFails() throws Exception {
        byte[] plain = tar(e("hello.txt", "hi"));
        Path dest = tmp.resolve("plain");

        LayerUnpacker.Result r =
                unpacker.unpack(new ByteArrayInputStream(plain), dest, LayerUnpacker.Mode.OVERLAY, Digest.of(plain));

        assertThat(dest.resolve("hello.txt")).hasContent("hi");
        assertThat(r.diffId()).isEqualTo(Digest.of(plain));
        assertThat(Files.isRegularFile(dest.resolve("hello.txt"), LinkOption.NOFOLLOW_LINKS))
                .isTrue();
        Digest wrong = Digest.of("other".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> unpacker.unpack(
                        new ByteArrayInputStream(plain), tmp.resolve("p2"), LayerUnpacker.Mode.OVERLAY, wrong))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("corrupt");
    }

    private static final Map<TarArchiveEntry, byte[]> CONTENT = new IdentityHashMap<>();

    private static TarArchiveEntry e(String name, String content) {
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        e.setSize(bytes.length);
        e.setMode(0644);
        CONTENT.put(e, bytes);
        return e;
    }

    private static byte[] tar(TarArchiveEntry... entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
            for (TarArchiveEntry e : entries) {
                t.putArchiveEntry(e);
                if (CONTENT.containsKey(e)) {
                    t.write(CONTENT.get(e));
                }
                t.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }
}
