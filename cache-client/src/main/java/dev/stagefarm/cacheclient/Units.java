package dev.stagefarm.cacheclient;

import dev.stagefarm.common.GoDuration;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes and durations written the way Docker's CLI takes them: {@code 20GB}, {@code 512MiB},
 * {@code 1.5g}, {@code 300} (bytes) — every unit binary (1 KB = 1024 bytes) as in
 * {@code docker builder prune --keep-storage}; durations as Go writes them ({@link GoDuration}):
 * {@code 24h}, {@code 90m}, {@code 1h30m}, {@code 45s}.
 */
public final class Units {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp]?)(i?b)?");
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

    /**
     * A Go duration ({@link GoDuration}, the one grammar for durations) that is not negative.
     *
     * @throws IllegalArgumentException with a sentence naming the accepted forms
     */
    public static Duration parseDuration(String text) {
        String t = text == null ? "" : text.trim();
        Duration d;
        try {
            d = GoDuration.parse(t);
        } catch (GoDuration.InvalidDurationException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("'" + text + "' is negative: write a duration such as 24h or 90m");
        }
        return d;
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
