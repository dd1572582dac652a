package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The known-escapes table against upstream versions and Debian patch levels, and the worker's start-up check. */
class RuncCvesTest {

    @TempDir
    Path tmp;

    @Test
    void upstreamVersions() {
        assertThat(missing("1.1.11"))
                .containsExactly("CVE-2024-21626", "CVE-2025-31133", "CVE-2025-52565", "CVE-2025-52881");
        assertThat(missing("1.1.12")).containsExactly("CVE-2025-31133", "CVE-2025-52565", "CVE-2025-52881");
        assertThat(missing("1.2.7")).containsExactly("CVE-2025-31133", "CVE-2025-52565", "CVE-2025-52881");
        assertThat(missing("1.2.8")).isEmpty();
        assertThat(missing("1.3.2")).hasSize(3);
        assertThat(missing("1.3.3")).isEmpty();
        assertThat(missing("1.4.0-rc.2")).hasSize(3);
        assertThat(missing("1.4.0-rc.3")).isEmpty();
        assertThat(missing("1.4.0")).isEmpty();
        assertThat(missing("1.0.0-rc.95")).contains("CVE-2024-21626");
    }

    @Test
    void debianBackportsCount() {
        RuncVersion bookworm = new RuncVersion("1.1.5", Optional.of("1.1.5+ds1-1+deb12u1"));
        RuncVersion before = new RuncVersion("1.1.5", Optional.of("1.1.5+ds1-1"));

        assertThat(RuncCves.missing(bookworm).stream().map(RuncCves.Cve::id))
                .containsExactly("CVE-2025-31133", "CVE-2025-52565", "CVE-2025-52881");
        assertThat(RuncCves.missing(before).stream().map(RuncCves.Cve::id)).contains("CVE-2024-21626");
        assertThat(RuncCves.warnings(bookworm))
                .hasSize(3)
                .first()
                .asString()
                .startsWith("runc 1.1.5 (Debian package 1.1.5+ds1-1+deb12u1) lacks the fix for CVE-2025-31133");
    }

    @Test
    void thisHostsRuncIsRecognised() throws Exception {
        RuncVersion version = RuncVersion.of(RuncExecutor.Config.findRunc());

        assertThat(version.upstream()).matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(RuncCves.missing(version)).noneMatch(RuncCves.Cve::refuse);
    }

    @Test
    void theWorkerRefusesARuncWithoutTheCve202421626Fix() throws Exception {
        Path fake = tmp.resolve("runc");
        Files.writeString(fake, "#!/bin/sh\necho 'runc version 1.1.11'\necho 'spec: 1.0.2-dev'\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertThatThrownBy(() -> RuncExecutor.open(
                        RuncExecutor.Config.defaults(tmp.resolve("worker")).withRunc(fake)))
                .isInstanceOf(ExecException.class)
                .hasMessageStartingWith("runc 1.1.11 at " + fake + " lacks the fix for CVE-2024-21626")
                .hasMessageEndingWith("and pass --runc PATH");
    }

    private static List<String> missing(String upstream) {
        return RuncCves.missing(new RuncVersion(upstream, Optional.empty())).stream()
                .map(RuncCves.Cve::id)
                .toList();
    }
}
