package dev.stagefarm.common;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations written as Go's {@code time.ParseDuration} reads them, the one grammar for every
 * duration a user writes here (HEALTHCHECK options, {@code cache prune --filter until=}): an
 * optional sign, then {@code 0} alone or numbers with units, as in {@code 30s}, {@code 1m30s},
 * {@code 1.5h}, {@code .5s}, {@code 250ms}, {@code 10us}; units {@code ns us µs ms s m h}.
 */
public final class GoDuration {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");
    private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

    /** A text that is not a Go duration; the message says how to write one. */
    public static final class InvalidDurationException extends Exception {
        InvalidDurationException(String message) {
            super(message);
        }
    }

    private GoDuration() {}

    public static Duration parse(String text) throws InvalidDurationException {
        String t = text;
        boolean negative = t.startsWith("-");
        if (negative || t.startsWith("+")) {
            t = t.substring(1);
        }
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = PART.matcher(t);
        BigDecimal nanos = BigDecimal.ZERO;
        int pos = 0;
        while (pos < t.length() && m.find(pos) && m.start() == pos) {
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            String amount = m.group(1).startsWith(".") ? "0" + m.group(1) : m.group(1);
            nanos = nanos.add(new BigDecimal(amount).multiply(BigDecimal.valueOf(unit)));
            pos = m.end();
        }
        if (pos == 0 || pos != t.length()) {
            throw new InvalidDurationException(
                    "invalid duration \"" + text + "\": write a number with a unit, e.g. 30s, 1m30s, 1.5h or 500ms");
        }
        BigInteger whole = nanos.toBigInteger();
        if (whole.compareTo(MAX_NANOS) > 0) {
            throw new InvalidDurationException("invalid duration \"" + text + "\": longer than Go's limit of 2562047h");
        }
        return Duration.ofNanos(negative ? -whole.longValue() : whole.longValue());
    }
}
