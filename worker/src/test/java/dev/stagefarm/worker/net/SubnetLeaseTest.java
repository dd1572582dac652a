package dev.stagefarm.worker.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubnetLeaseTest {

    @TempDir
    Path dir;

    /** The embedded farm: two workers in one JVM must both keep their subnets against other processes. */
    @Test
    void leasesTakenInOneJvmStayLockedForOtherProcesses() throws Exception {
        try (SubnetLease a = SubnetLease.acquire(dir, "aaaaaaaa");
                SubnetLease b = SubnetLease.acquire(dir, "bbbbbbbb");
                SubnetLease c = SubnetLease.acquire(dir, "cccccccc")) {
            assertThat(a.subnet()).isNotEqualTo(b.subnet()).isNotEqualTo(c.subnet());
            assertThat(b.subnet()).isNotEqualTo(c.subnet());
            assertThat(SubnetLease.heldElsewhere(dir, "aaaaaaaa")).isTrue();
            for (int i = 0; i < 3; i++) {
                assertThat(lockedForAnotherProcess(dir.resolve("subnet-" + i)))
                        .as("subnet-%d", i)
                        .isTrue();
            }
        }
        assertThat(lockedForAnotherProcess(dir.resolve("subnet-0"))).isFalse();
        assertThat(SubnetLease.heldElsewhere(dir, "aaaaaaaa")).isFalse();
    }

    @Test
    void aWorkerGetsItsOwnSubnetBackAfterARestart() throws Exception {
        Cidr first;
        try (SubnetLease x = SubnetLease.acquire(dir, "11111111");
                SubnetLease y = SubnetLease.acquire(dir, "22222222")) {
            first = y.subnet();
        }
        try (SubnetLease y = SubnetLease.acquire(dir, "22222222")) {
            assertThat(y.subnet()).isEqualTo(first);
            assertThat(y.previousHolder()).contains("22222222");
        }
    }

    /** A child JVM tries the same POSIX lock the kernel would give another worker process. */
    private static boolean lockedForAnotherProcess(Path file) throws Exception {
        Path probe = Files.createTempFile(file.getParent(), "lease-probe", ".java");
        Files.writeString(probe, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                class Probe {
                    public static void main(String[] a) throws Exception {
                        try (var ch = FileChannel.open(Path.of(a[0]), StandardOpenOption.WRITE)) {
                            System.out.print(ch.tryLock() == null ? "locked" : "free");
                        }
                    }
                }
                """);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, probe.toString(), file.toString())
                // stdout only: a JVM may note its options on stderr (JAVA_TOOL_OPTIONS)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Files.delete(probe);
        assertThat(out).isIn("locked", "free");
        return out.equals("locked");
    }
}
