package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A runc binary's upstream version and, when it comes from a Debian package, the package's
 * version: what {@link RuncCves} judges it by (Debian back-ports fixes without raising the
 * upstream number, as 1.1.5+ds1-1+deb12u1 did for CVE-2024-21626).
 *
 * @param upstream e.g. "1.1.5", "1.4.0-rc.3"
 * @param debian the dpkg version of the package that owns the binary, e.g. "1.1.5+ds1-1+deb12u1"
 */
record RuncVersion(String upstream, Optional<String> debian) {

    private static final Pattern VERSION_LINE =
            Pattern.compile("(?m)^runc version v?(\\d+\\.\\d+\\.\\d+(?:-rc\\.?\\d+)?)");

    /** Runs {@code runc --version} and asks dpkg which package, if any, installed the binary. */
    static RuncVersion of(Path runc) throws IOException, InterruptedException, ExecException {
        String out = output(List.of(runc.toString(), "--version"));
        Matcher m = VERSION_LINE.matcher(out);
        if (!m.find()) {
            throw new ExecException("cannot tell which version " + runc + " is (runc --version said \"" + out.strip()
                    + "\"): point --runc at a runc binary");
        }
        return new RuncVersion(m.group(1), debianVersion(runc));
    }

    private static Optional<String> debianVersion(Path runc) throws InterruptedException {
        try {
            String real = runc.toRealPath().toString();
            // "runc: /usr/sbin/runc": only a binary that dpkg installed gets Debian's patch level
            String owner = output(List.of("dpkg-query", "-S", real)).strip();
            if (!owner.endsWith(": " + real) || owner.contains("\n")) {
                return Optional.empty();
            }
            String pkg = owner.substring(0, owner.indexOf(':'));
            String version =
                    output(List.of("dpkg-query", "-W", "-f", "${Version}", pkg)).strip();
            return version.isEmpty() ? Optional.empty() : Optional.of(version);
        } catch (IOException e) {
            return Optional.empty(); // no dpkg here, or the binary is not from a package
        }
    }

    private static String output(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(cmd + " did not finish");
        }
        if (p.exitValue() != 0) {
            throw new IOException(cmd + " failed: " + out.strip());
        }
        return out;
    }

    @Override
    public String toString() {
        return upstream + debian.map(d -> " (Debian package " + d + ")").orElse("");
    }

    /** Orders upstream versions: 1.2.10 > 1.2.8; 1.4.0-rc.3 < 1.4.0. */
    static int compare(String a, String b) {
        long[] x = parts(a);
        long[] y = parts(b);
        for (int i = 0; i < x.length; i++) {
            if (x[i] != y[i]) {
                return Long.compare(x[i], y[i]);
            }
        }
        return 0;
    }

    /** major, minor, patch, then rc number (a release counts as rc "infinity"). */
    private static long[] parts(String v) {
        Matcher m =
                Pattern.compile("^(\\d+)\\.(\\d+)\\.(\\d+)(?:-rc\\.?(\\d+))?").matcher(v);
        if (!m.find()) {
            throw new IllegalArgumentException("not a runc version: " + v);
        }
        return new long[] {
            Long.parseLong(m.group(1)),
            Long.parseLong(m.group(2)),
            Long.parseLong(m.group(3)),
            m.group(4) == null ? Long.MAX_VALUE : Long.parseLong(m.group(4))
        };
    }

    static String line(String v) {
        long[] p = parts(v);
        return p[0] + "." + p[1];
    }
}
