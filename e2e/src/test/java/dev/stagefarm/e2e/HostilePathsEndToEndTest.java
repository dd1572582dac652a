package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile Dockerfiles that try to read the worker's own files through paths (issue 11, requirement
 * 1). The start of the hostile suite: each case builds on a farm of separate processes with real
 * runc, then greps the whole farm's state (cache-server data, worker roots) for a random marker
 * written into a host file the build must never reach.
 */
@Tag("e2e")
class HostilePathsEndToEndTest {

    @TempDir
    static Path dir;

    /** Outside the farm's directory, as /etc/shadow would be: JUnit removes it, even after a failure. */
    @TempDir
    static Path hostDir;

    static Farm farm;
    static String marker;

    @BeforeAll
    static void start() throws Exception {
        marker = "host-only-" + UUID.randomUUID();
        Files.writeString(hostDir.resolve("secret.txt"), marker + "\n");
        farm = new Farm(dir.resolve("farm"), "w1");
    }

    @AfterAll
    static void stop() throws Exception {
        if (farm != null) {
            farm.close();
        }
    }

    @AfterEach
    void theHostFileReachedNothing() throws IOException {
        assertThat(MarkerScan.filesContaining(dir, marker))
                .as("files of the farm holding the host file's bytes")
                .isEmpty();
    }

    /** The Dockerfile: a link to "/" in one stage, COPY --from through it in the next. */
    @Test
    void copyFromThroughALinkToRootDoesNotReachTheWorkersFiles() throws Exception {
        Farm.Result r = build("link-to-root", """
                FROM busybox AS s
                RUN mkdir -p /x && ln -s / /x/h
                FROM busybox
                COPY --from=s /x/h%s /t
                """.formatted(hostDir.resolve("secret.txt")));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.output()).containsIgnoringCase("does not exist").doesNotContain(marker);
    }

    @Test
    void copyFromThroughALinkToAHostDirectoryDoesNotReachIt() throws Exception {
        Farm.Result r = build("link-to-host-dir", """
                FROM busybox AS s
                RUN mkdir -p /x && ln -s %s /x/d && ln -s ../../../../../../..%s /x/r
                FROM busybox
                COPY --from=s /x/d/secret.txt /t
                COPY --from=s /x/r/secret.txt /u
                """.formatted(hostDir, hostDir));
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.output()).containsIgnoringCase("does not exist").doesNotContain(marker);
    }

    /** A link to "/" means the stage's own "/": COPY --from through it takes the stage's file. */
    @Test
    void copyFromThroughALinkToRootTakesTheStagesFile() throws Exception {
        Path oci = dir.resolve("in-root.oci.tar");
        build("link-in-root", """
                        FROM busybox AS s
                        RUN mkdir -p /x /etc/app && echo in-stage > /etc/app/conf && ln -s / /x/h
                        FROM busybox
                        COPY --from=s /x/h/etc/app/conf /t
                        """, "-t", "hostile:in-root", "--output", "type=oci,dest=" + oci)
                .assertOk();
        Path rootfs = Images.unpackOci(oci, Files.createDirectories(dir.resolve("unpack-in-root")), "in-root")
                .resolve("rootfs");
        assertThat(rootfs.resolve("t")).hasContent("in-stage");
    }

    private static Farm.Result build(String name, String dockerfile, String... args)
            throws IOException, InterruptedException {
        Path ctx = Files.createDirectories(dir.resolve("ctx-" + name));
        Files.writeString(ctx.resolve("Dockerfile"), dockerfile);
        String[] all = Arrays.copyOf(args, args.length + 1);
        all[args.length] = ctx.toString();
        return farm.build(all);
    }
}
