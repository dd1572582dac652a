package dev.stagefarm.oci.layer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.testing.Canary;
import dev.stagefarm.common.testing.LinkSwapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A layer unpacked again and again into a tree where a thread swaps the directory the layer writes
 * into for a link to a canary outside it, and back. Files, directories, links, hard links,
 * whiteouts, an opaque marker, owners, modes, xattrs and times: the unpacker may fail a round or
 * write inside the tree, but the canary never changes.
 */
@Tag("root")
class LayerUnpackerRaceTest {

    private static final int MIN_ROUNDS = 400;
    private static final int MIN_SWAPS = 100;

    @TempDir
    Path tmp;

    @Test
    void swappingADirectoryForALinkNeverReachesTheCanary() throws Exception {
        Canary canary = Canary.create(tmp.resolve("canary"));
        Path tree = Files.createDirectories(tmp.resolve("tree"));
        Files.createDirectories(tree.resolve(canary.dir().toString().substring(1)));
        Files.createDirectories(tree.resolve("d"));
        byte[] layer = layer();

        LayerUnpacker unpacker = new LayerUnpacker();
        long rounds = 0;
        long succeeded = 0;
        long swaps;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (LinkSwapper swapper = new LinkSwapper(List.of(tree.resolve("d")), canary.dir())) {
            while ((rounds < MIN_ROUNDS || swapper.swaps() < MIN_SWAPS) && System.nanoTime() < deadline) {
                LayerUnpacker.Mode mode = LayerUnpacker.Mode.values()[(int) (rounds % 2)];
                try {
                    unpacker.unpack(new ByteArrayInputStream(layer), tree, mode, null);
                    succeeded++;
                } catch (IOException refused) {
                    // written through a link, or half way through a swap: refused is acceptable, escaping is not
                }
                rounds++;
            }
            swaps = swapper.swaps();
        }

        canary.assertUnchanged();
        canary.assertNotIn(tree);
        assertThat(swaps).as("the swapper ran throughout").isGreaterThanOrEqualTo(MIN_SWAPS);
        assertThat(succeeded).as("layers were unpacked, not only refused").isPositive();
    }

    private static byte[] layer() throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            put(tar, entry("d/", TarArchiveEntry.LF_DIR), null);
            for (int i = 0; i < 6; i++) {
                TarArchiveEntry f = entry("d/f" + i, TarArchiveEntry.LF_NORMAL);
                if (i == 1) {
                    f.addPaxHeader("SCHILY.xattr.user.planted", "yes");
                }
                put(tar, f, "from the layer " + i);
            }
            put(tar, entry("d/a", TarArchiveEntry.LF_NORMAL), "from the layer");
            put(tar, entry("d/sub/", TarArchiveEntry.LF_DIR), null);
            put(tar, entry("d/sub/f", TarArchiveEntry.LF_NORMAL), "from the layer");
            TarArchiveEntry link = entry("d/l", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("/etc");
            put(tar, link, null);
            TarArchiveEntry hard = entry("d/h", TarArchiveEntry.LF_LINK);
            hard.setLinkName("d/f0");
            put(tar, hard, null);
            put(tar, entry("d/.wh.f", TarArchiveEntry.LF_NORMAL), "");
            put(tar, entry("d/sub/.wh..wh..opq", TarArchiveEntry.LF_NORMAL), "");
            put(tar, entry("d/fifo", TarArchiveEntry.LF_FIFO), null);
        }
        return bytes.toByteArray();
    }

    private static TarArchiveEntry entry(String name, byte type) {
        TarArchiveEntry e = new TarArchiveEntry(name, type);
        e.setMode(0777);
        e.setUserId(4321);
        e.setGroupId(4321);
        e.setModTime(new Date(1_000_000_000L));
        return e;
    }

    private static void put(TarArchiveOutputStream tar, TarArchiveEntry e, String content) throws IOException {
        byte[] data = content == null ? new byte[0] : content.getBytes(StandardCharsets.UTF_8);
        if (e.isFile()) {
            e.setSize(data.length);
        }
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }
}
