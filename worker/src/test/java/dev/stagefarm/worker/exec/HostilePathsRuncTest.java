package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image's links aimed at the worker's own files, met by what the executor does on the host
 * side around a run (working directory, user lookup, mount-point stubs), with real runc.
 */
@Tag("root")
class HostilePathsRuncTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    static Path rootfs;
    static Path host;
    static RuncExecutor executor;

    @BeforeAll
    static void setUp() throws Exception {
        rootfs = BusyboxRootfs.create(Files.createDirectory(tmp.resolve("rootfs")));
        host = Files.createDirectories(tmp.resolve("host"));
        executor = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")));
    }

    @Test
    void aWorkingDirectoryThroughALinkToTheHostIsCreatedInsideTheRootfs() throws Exception {
        Files.createSymbolicLink(rootfs.resolve("w"), host);
        List<String> out =
                run(ProcessSpec.of("sh", "-c", "pwd; touch made-here").withCwd("/w/sub"));

        // the container's getcwd names the link's target, inside its own root
        assertThat(out).containsExactly(host.resolve("sub").toString());
        try (Stream<Path> s = Files.list(host)) {
            assertThat(s).as("nothing created on the host").isEmpty();
        }
        assertThat(rootfs.resolve(host.toString().substring(1)).resolve("sub/made-here"))
                .exists();
    }

    @Test
    void aPasswdLinkedToTheHostsIsReadInsideTheRootfs() throws Exception {
        Path fake = Files.writeString(host.resolve("passwd"), "intruder:x:4242:4242::/:/bin/sh\n");
        Path passwd = rootfs.resolve("etc/passwd");
        Path saved = Files.move(passwd, rootfs.resolve("etc/passwd.saved"));
        try {
            Files.createSymbolicLink(passwd, fake);
            // the host's file would make "intruder" 4242; inside the rootfs the link leads nowhere
            List<String> out = run(ProcessSpec.of("id", "-u").withUser("4243"));
            assertThat(out).containsExactly("4243");
            assertThat(Assertions.catchThrowable(
                            () -> run(ProcessSpec.of("id", "-u").withUser("intruder"))))
                    .hasMessageContaining("unable to find user intruder");
        } finally {
            Files.delete(passwd);
            Files.move(saved, passwd);
        }
    }

    @Test
    void mountPointStubsUnderADirectoryTheStepTurnedIntoALinkAreNotChasedOntoTheHost() throws Exception {
        Path etc = rootfs.resolve("etc");
        Path hosts = etc.resolve("hosts");
        Files.deleteIfExists(hosts); // runc creates the /etc/hosts stub, which we remove afterwards
        Path victim = Files.createDirectories(host.resolve("victim"));
        Path stubTwin = Files.createFile(victim.resolve("hosts")); // empty: looks like a stub
        long mtime = Files.getLastModifiedTime(victim).toMillis();
        Path saved = rootfs.resolve("etc.saved");
        try {
            // the step moves /etc away and leaves a link to the host's directory in its place
            run(ProcessSpec.of("sh", "-c", "mv /etc /etc.saved && ln -s " + victim + " /etc"));
            assertThat(stubTwin).as("the host's empty file is not removed").exists();
            assertThat(Files.getLastModifiedTime(victim).toMillis()).isEqualTo(mtime);
        } finally {
            if (Files.isSymbolicLink(etc)) {
                Files.delete(etc);
            }
            if (Files.isDirectory(saved, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(saved, etc);
            }
        }
    }

    private static List<String> run(ProcessSpec spec) throws Exception {
        List<String> lines = new ArrayList<>();
        ExecResult result = executor.run(rootfs, spec, lines::add, TIMEOUT);
        assertThat(result.exitCode()).as(String.join("\n", lines)).isZero();
        return lines;
    }
}
