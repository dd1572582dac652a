package dev.stagefarm.e2e;

import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Finds a marker string anywhere in a farm's state: in files as they are, and inside every gzip or
 * zstd stream that starts somewhere in them (layer blobs, blobs stored inside RocksDB's files).
 */
final class MarkerScan {

    private static final int MAX_INFLATED = 64 << 20;

    private MarkerScan() {}

    /** Files under {@code dir} whose bytes, raw or decompressed, contain {@code marker}. */
    static List<String> filesContaining(Path dir, String marker) throws IOException {
        byte[] m = marker.getBytes(StandardCharsets.UTF_8);
        List<String> found = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            // a build's links point at host paths: read files, never what a link names
            for (Path f : walk.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                    .toList()) {
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(f);
                } catch (IOException gone) { // a temp file removed while we walked
                    continue;
                }
                if (indexOf(bytes, m, 0) >= 0 || inStreams(bytes, m)) {
                    found.add(dir.relativize(f).toString());
                }
            }
        }
        return found;
    }

    private static boolean inStreams(byte[] bytes, byte[] marker) {
        for (int i = 0; i + 4 <= bytes.length; i++) {
            boolean gzip = (bytes[i] & 0xff) == 0x1f && (bytes[i + 1] & 0xff) == 0x8b && bytes[i + 2] == 8;
            boolean zstd = (bytes[i] & 0xff) == 0x28
                    && (bytes[i + 1] & 0xff) == 0xb5
                    && (bytes[i + 2] & 0xff) == 0x2f
                    && (bytes[i + 3] & 0xff) == 0xfd;
            if ((gzip || zstd) && indexOf(inflate(bytes, i, gzip), marker, 0) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** As much as decompresses from offset {@code at}; a stream cut short still yields its start. */
    private static byte[] inflate(byte[] bytes, int at, boolean gzip) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        InputStream raw = new ByteArrayInputStream(bytes, at, bytes.length - at);
        try (InputStream in = gzip ? new GZIPInputStream(raw) : new ZstdInputStream(raw)) {
            byte[] buf = new byte[8192];
            for (int n; out.size() < MAX_INFLATED && (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
        } catch (IOException | RuntimeException cutShort) {
            // keep what came out before the stream ended or broke
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
