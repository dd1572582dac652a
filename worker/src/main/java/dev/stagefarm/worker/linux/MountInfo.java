package dev.stagefarm.worker.linux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of {@code /proc/self/mountinfo}: enough to find the mounts a crashed worker left behind.
 *
 * @param mountId unique id of the mount
 * @param parentId id of the mount it sits on
 * @param mountPoint where it is mounted, octal escapes decoded
 * @param fsType e.g. {@code overlay}
 * @param source e.g. {@code overlay} or a device
 */
public record MountInfo(int mountId, int parentId, Path mountPoint, String fsType, String source) {

    private static final Path SELF = Path.of("/proc/self/mountinfo");

    /** The mounts of this process's mount namespace, in the kernel's order (parents before children). */
    public static List<MountInfo> read() throws IOException {
        // a Reader decodes leniently: a foreign mount with a non-UTF-8 name must not stop us reading ours;
        // and procfs files are best read in large chunks, never with Files.readAllBytes' 1-byte probe
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(Files.newInputStream(SELF), StandardCharsets.UTF_8), 1 << 16)) {
            return parse(in.lines().toList());
        }
    }

    /** Mounts at or below {@code dir} (compared as absolute, normalized paths), deepest last. */
    public static List<MountInfo> under(Path dir) throws IOException {
        Path base = dir.toAbsolutePath().normalize();
        return read().stream().filter(m -> m.mountPoint().startsWith(base)).toList();
    }

    static List<MountInfo> parse(List<String> lines) {
        List<MountInfo> out = new ArrayList<>(lines.size());
        for (String line : lines) {
            // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            out.add(new MountInfo(
                    Integer.parseInt(f[0]),
                    Integer.parseInt(f[1]),
                    Path.of(unescape(f[4])),
                    unescape(f[dash + 1]),
                    unescape(f[dash + 2])));
        }
        return out;
    }

    /** The kernel writes space, tab, newline and backslash as {@code \ooo} octal escapes. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }
}
