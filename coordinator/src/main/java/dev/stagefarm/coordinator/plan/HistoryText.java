package dev.stagefarm.coordinator.plan;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code created_by} texts BuildKit writes into image history. BuildKit formats several of
 * them with Go's {@code fmt} verbs, so tools that compare histories see Go's renderings:
 * {@code %q} of a string slice is {@code ["a" "b"]}, {@code %v} is {@code [a b]}.
 */
final class HistoryText {

    private HistoryText() {}

    /** Go's {@code fmt.Sprintf("%q", []string{...})}. */
    static String goQuotedList(List<String> values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                b.append(' ');
            }
            b.append(goQuote(values.get(i)));
        }
        return b.append(']').toString();
    }

    /** Go's {@code fmt.Sprintf("%v", []string{...})}. */
    static String goList(List<String> values) {
        return "[" + String.join(" ", values) + "]";
    }

    /** Go's {@code strconv.Quote}: printable characters as they are, the rest escaped. */
    static String goQuote(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case 0x07 -> b.append("\\a");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case 0x0b -> b.append("\\v");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\x%02x", c));
                    } else {
                        b.appendCodePoint(c);
                    }
                }
            }
        });
        return b.append('"').toString();
    }

    /**
     * {@code HEALTHCHECK %q} of BuildKit's health config struct: its fields in order, durations
     * in Go's notation, the retry count as a Go rune literal (that is what {@code %q} does to an int).
     */
    static String healthcheck(
            List<String> test,
            Optional<Duration> interval,
            Optional<Duration> timeout,
            Optional<Duration> startPeriod,
            Optional<Duration> startInterval,
            Optional<Integer> retries) {
        return "HEALTHCHECK &{" + goQuotedList(test) + " " + goQuote(goDuration(interval.orElse(Duration.ZERO)))
                + " " + goQuote(goDuration(timeout.orElse(Duration.ZERO)))
                + " " + goQuote(goDuration(startPeriod.orElse(Duration.ZERO)))
                + " " + goQuote(goDuration(startInterval.orElse(Duration.ZERO)))
                + " " + goRune(retries.orElse(0)) + "}";
    }

    /** Go's {@code time.Duration.String()}: "0s", "1m30s", "1.5s", "500ms", "1h0m0s". */
    static String goDuration(Duration d) {
        long nanos = d.toNanos();
        if (nanos == 0) {
            return "0s";
        }
        String sign = nanos < 0 ? "-" : "";
        long n = Math.abs(nanos);
        if (n < 1_000_000_000L) {
            if (n < 1_000) {
                return sign + n + "ns";
            }
            if (n < 1_000_000) {
                return sign + fraction(n, 1_000) + "µs";
            }
            return sign + fraction(n, 1_000_000) + "ms";
        }
        long hours = n / 3_600_000_000_000L;
        long minutes = n / 60_000_000_000L % 60;
        String seconds = fraction(n % 60_000_000_000L, 1_000_000_000L) + "s";
        if (hours > 0) {
            return sign + hours + "h" + minutes + "m" + seconds;
        }
        if (minutes > 0) {
            return sign + minutes + "m" + seconds;
        }
        return sign + seconds;
    }

    private static String fraction(long value, long unit) {
        long whole = value / unit;
        long rest = value % unit;
        if (rest == 0) {
            return Long.toString(whole);
        }
        String digits = String.format("%0" + (Long.toString(unit).length() - 1) + "d", rest)
                .replaceAll("0+$", "");
        return whole + "." + digits;
    }

    /** Go's {@code %q} of an int: a single-quoted rune literal, e.g. {@code '\x03'}. */
    static String goRune(int value) {
        if (value == '\'') {
            return "'\\''";
        }
        if (value == '\\') {
            return "'\\\\'";
        }
        String quoted = goQuote(new String(Character.toChars(value)));
        if (value == '"') {
            return "'\"'";
        }
        if (value < 0x20 || value == 0x7f) {
            // strconv.QuoteRune writes \a \b \f \n \r \t \v and \x.. for the rest, like Quote
            return "'" + quoted.substring(1, quoted.length() - 1) + "'";
        }
        return "'" + new String(Character.toChars(value)) + "'";
    }

    /** A RUN in exec form as progress shows it: a JSON array. */
    static String json(List<String> values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append('"')
                    .append(values.get(i).replace("\\", "\\\\").replace("\"", "\\\""))
                    .append('"');
        }
        return b.append(']').toString();
    }
}
