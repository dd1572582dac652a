package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Linux kernel's major.minor, compared with the seccomp profile's {@code minKernel}. */
record KernelVersion(int major, int minor) {

    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)");

    static KernelVersion parse(String release) {
        Matcher m = VERSION.matcher(release.strip());
        if (!m.find()) {
            throw new IllegalArgumentException("not a kernel version: " + release);
        }
        return new KernelVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    static KernelVersion host() {
        try {
            return parse(Files.readString(Path.of("/proc/sys/kernel/osrelease")));
        } catch (IOException e) {
            return parse(System.getProperty("os.version"));
        }
    }

    boolean atLeast(String other) {
        KernelVersion o = parse(other);
        return major != o.major ? major > o.major : minor >= o.minor;
    }
}
