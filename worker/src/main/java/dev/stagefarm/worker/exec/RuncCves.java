package dev.stagefarm.worker.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Known runc container escapes and the versions that fix them. The worker refuses a runc without a
 * fix marked {@code refuse} and warns about the others at start and in {@code stagefarm workers}.
 *
 * <p>Sources: runc's security advisories (GHSA-xr7r-f8xq-vfvv for CVE-2024-21626; GHSA-9493-h29p-rfm2,
 * GHSA-qw9x-cqr3-wc7r, GHSA-cgrx-mc8f-2prm for the November 2025 ones, fixed in 1.2.8, 1.3.3 and
 * 1.4.0-rc.3) and Debian's
 * security tracker (bookworm's 1.1.5+ds1-1+deb12u1 has the CVE-2024-21626 fix).
 */
final class RuncCves {

    /**
     * @param fixedIn the first fixed upstream release of each maintained line; a release of a later
     *     line than all of them is fixed, a release of an earlier or unlisted line is not
     * @param debianFixedIn Debian package versions with the fix back-ported, as
     *     {@code <upstream>+ds1-1+deb12uN}: a package of that upstream and distribution with an
     *     update number at least N is fixed
     */
    record Cve(String id, String what, boolean refuse, List<String> fixedIn, List<String> debianFixedIn) {}

    static final List<Cve> KNOWN = List.of(
            new Cve(
                    "CVE-2024-21626",
                    "a leaked directory descriptor lets a step's working directory or a runc exec reach the host's filesystem",
                    true,
                    List.of("1.1.12"),
                    List.of("1.1.5+ds1-1+deb12u1")),
            new Cve(
                    "CVE-2025-31133",
                    "a step can make runc's masking of /proc files (maskedPaths) write to a host file through a bind-mount race",
                    false,
                    List.of("1.2.8", "1.3.3", "1.4.0-rc.3"),
                    List.of()),
            new Cve(
                    "CVE-2025-52565",
                    "a step can redirect runc's /dev/console bind mount to write to host procfs files",
                    false,
                    List.of("1.2.8", "1.3.3", "1.4.0-rc.3"),
                    List.of()),
            new Cve(
                    "CVE-2025-52881",
                    "a step can redirect runc's writes to /proc (LSM labels, sysctls) to other procfs files through shared mounts",
                    false,
                    List.of("1.2.8", "1.3.3", "1.4.0-rc.3"),
                    List.of()));

    private static final Pattern DEBIAN_UPDATE = Pattern.compile("^(.*\\+deb\\d+u)(\\d+)$");

    private RuncCves() {}

    /** The known CVEs {@code runc} lacks the fix for. */
    static List<Cve> missing(RuncVersion runc) {
        List<Cve> out = new ArrayList<>();
        for (Cve cve : KNOWN) {
            if (!fixed(cve, runc)) {
                out.add(cve);
            }
        }
        return out;
    }

    static boolean fixed(Cve cve, RuncVersion runc) {
        if (runc.debian().isPresent()
                && cve.debianFixedIn().stream()
                        .anyMatch(d -> debianHas(runc.debian().get(), d))) {
            return true;
        }
        String v = runc.upstream();
        String newestLine = null;
        for (String f : cve.fixedIn()) {
            if (RuncVersion.line(f).equals(RuncVersion.line(v))) {
                return RuncVersion.compare(v, f) >= 0;
            }
            if (newestLine == null || RuncVersion.compare(f, newestLine) > 0) {
                newestLine = f;
            }
        }
        // a line after every listed one came out with the fix
        return RuncVersion.compare(v, newestLine) > 0;
    }

    private static boolean debianHas(String installed, String fixed) {
        Matcher i = DEBIAN_UPDATE.matcher(installed);
        Matcher f = DEBIAN_UPDATE.matcher(fixed);
        if (!f.matches()) {
            return installed.equals(fixed);
        }
        return i.matches()
                && i.group(1).equals(f.group(1))
                && Integer.parseInt(i.group(2)) >= Integer.parseInt(f.group(2));
    }

    /** One warning sentence per CVE not fixed, for the log and {@code stagefarm workers}. */
    static List<String> warnings(RuncVersion runc) {
        List<String> out = new ArrayList<>();
        for (Cve cve : missing(runc)) {
            if (!cve.refuse()) {
                out.add("runc " + runc + " lacks the fix for " + cve.id() + " (" + cve.what() + "); fixed in runc "
                        + String.join(", ", cve.fixedIn()));
            }
        }
        return out;
    }
}
