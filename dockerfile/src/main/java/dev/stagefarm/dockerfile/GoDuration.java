package dev.stagefarm.dockerfile;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations written the Go way ({@code 30s}, {@code 1m30s}, {@code 1.5h}, {@code 250ms}), as HEALTHCHECK takes them. */
final class GoDuration {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    private GoDuration() {}

    static Duration parse(String text) throws InvalidValueException {
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = PART.matcher(text);
        long nanos = 0;
        int pos = 0;
        while (pos < text.length() && m.find(pos) && m.start() == pos) {
            BigDecimal amount = new BigDecimal(m.group(1).startsWith(".") ? "0" + m.group(1) : m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            nanos += amount.multiply(BigDecimal.valueOf(unit)).longValue();
            pos = m.end();
        }
        if (pos == 0 || pos != text.length()) {
            throw new InvalidValueException("invalid duration \"" + text + "\" (write e.g. 30s, 1m30s, 500ms)");
        }
        return Duration.ofNanos(nanos);
    }
}
