package dev.stagefarm.cacheclient;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes and durations written the way Docker's CLI takes them: {@code 20GB}, {@code 512MiB},
 * {@code 1.5g}, {@code 300} (bytes) — every unit binary (1 KB = 1024 bytes) as in
 * {@code docker builder prune --keep-storage}; durations as Go writes them: {@code 24h},
 * {@code 90m}, {@code 1h30m}, {@code 45s}.
 */
public final class Units {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp]?)(i?b)?");
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");
    private static final String[] SIZE_UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private Units() {}

    /** @throws IllegalArgumentException with a sentence naming the accepted forms */
    public static long parseSize(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIZE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size: write a number with an optional unit,"
                    + " like 20GB, 512MiB, 1.5g or 4096 (bytes); units are binary (1KB = 1024 bytes)");
        }
        int power = "kmgtp".indexOf(m.group(2)) + 1;
        double bytes =
                Double.parseDouble(m.group(1)) * Math.pow(1024, m.group(2).isEmpty() ? 0 : power);
        if (bytes >= Long.MAX_VALUE) {
            throw new IllegalArgumentException("'" + text + "' is too large a size");
        }
        return (long) bytes;
    }

    /** @throws IllegalArgumentException with a sentence naming the accepted forms */
    public static Duration parseDuration(String text) {
        String t = text == null ? "" : text.trim();
        Matcher m = DURATION_PART.matcher(t);
        double nanos = 0;
        int at = 0;
        while (at < t.length() && m.find(at) && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            nanos += n
                    * switch (m.group(2)) {
                        case "ns" -> 1;
                        case "us", "µs" -> 1e3;
                        case "ms" -> 1e6;
                        case "s" -> 1e9;
                        case "m" -> 60e9;
                        default -> 3600e9;
                    };
            at = m.end();
        }
        if (t.isEmpty() || at != t.length()) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a duration: write it like 24h, 90m, 1h30m or 45s");
        }
        return Duration.ofNanos((long) nanos);
    }

    /** {@code 1.5 GiB}, {@code 300 B}. */
    public static String formatSize(long bytes) {
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, SIZE_UNITS[unit]);
    }
}
