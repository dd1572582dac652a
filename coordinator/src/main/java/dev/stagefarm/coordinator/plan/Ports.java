package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.InvalidValueException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** EXPOSE's port specs: {@code 80}, {@code 53/udp}, {@code 8000-8002/tcp}, as Docker's nat.ParsePortSpecs reads them. */
final class Ports {

    private static final Pattern SPEC = Pattern.compile("(?:([0-9.]*):)?(\\d+)(?:-(\\d+))?(?:/([A-Za-z]+))?");

    private Ports() {}

    /** The {@code port/proto} keys of one spec, a range expanded. */
    static List<String> parse(String spec) throws InvalidValueException {
        Matcher m = SPEC.matcher(spec);
        if (!m.matches()) {
            throw new InvalidValueException("invalid containerPort: " + spec);
        }
        String proto = m.group(4) == null ? "tcp" : m.group(4).toLowerCase(Locale.ROOT);
        if (!List.of("tcp", "udp", "sctp").contains(proto)) {
            throw new InvalidValueException("invalid proto: " + proto + " in " + spec + " (use tcp, udp or sctp)");
        }
        int first = port(m.group(2), spec);
        int last = m.group(3) == null ? first : port(m.group(3), spec);
        if (last < first) {
            throw new InvalidValueException("invalid range specified for container port: " + spec);
        }
        List<String> out = new ArrayList<>();
        for (int p = first; p <= last; p++) {
            out.add(p + "/" + proto);
        }
        return out;
    }

    private static int port(String digits, String spec) throws InvalidValueException {
        int p;
        try {
            p = Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new InvalidValueException("invalid containerPort: " + spec);
        }
        if (p < 0 || p > 65535) {
            throw new InvalidValueException("invalid containerPort: " + spec);
        }
        return p;
    }
}
