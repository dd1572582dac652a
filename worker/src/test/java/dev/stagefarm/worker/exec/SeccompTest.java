package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Docker's profile translated as Docker does for a host architecture and a capability set. */
class SeccompTest {

    private static final KernelVersion KERNEL = KernelVersion.parse("6.1.0-18-amd64");

    @Test
    void dockersCapabilitiesOnAmd64() {
        Seccomp.Profile p = Seccomp.translate(Seccomp.loadDefault(), "amd64", RuntimeSpecFactory.CAPABILITIES, KERNEL);

        assertThat(p.defaultAction()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(p.defaultErrnoRet()).isEqualTo(1);
        assertThat(p.architectures()).containsExactly("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
        List<String> allowed = allowed(p);
        assertThat(allowed).contains("read", "clone", "arch_prctl", "chroot", "ptrace");
        assertThat(allowed)
                .as("what needs a capability the step does not have")
                .doesNotContain("bpf", "mount", "unshare", "setns", "keyctl", "add_key", "reboot", "init_module");
        assertThat(allowed).as("other architectures' calls").doesNotContain("s390_runtime_instr", "riscv_flush_icache");
        Seccomp.Syscall clone = p.syscalls().stream()
                .filter(s -> s.names().equals(List.of("clone")))
                .findFirst()
                .orElseThrow();
        assertThat(clone.args())
                .as("clone without namespace flags only")
                .containsExactly(new Seccomp.Arg(0, 2114060288L, null, "SCMP_CMP_MASKED_EQ"));
        assertThat(p.syscalls())
                .as("clone3 says ENOSYS, so that libc falls back to clone, which can be filtered")
                .anyMatch(s -> s.names().equals(List.of("clone3"))
                        && Integer.valueOf(38).equals(s.errnoRet()));
    }

    @Test
    void sysAdminUnlocksNamespacesAndMountAsInDocker() {
        List<String> caps = new ArrayList<>(RuntimeSpecFactory.CAPABILITIES);
        caps.add("CAP_SYS_ADMIN");

        Seccomp.Profile p = Seccomp.translate(Seccomp.loadDefault(), "arm64", caps, KERNEL);

        assertThat(p.architectures()).containsExactly("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
        assertThat(allowed(p)).contains("mount", "unshare", "setns", "bpf", "arm_fadvise64_64");
        assertThat(p.syscalls()).noneMatch(s -> s.names().equals(List.of("clone")) && s.args() != null);
    }

    @Test
    void aMinimumKernelRuleIsDroppedOnAnOlderKernel() {
        Seccomp.Profile old = Seccomp.translate(
                Seccomp.loadDefault(), "amd64", RuntimeSpecFactory.CAPABILITIES, KernelVersion.parse("4.4.0"));

        assertThat(allowed(old)).doesNotContain("ptrace");
    }

    private static List<String> allowed(Seccomp.Profile p) {
        return p.syscalls().stream()
                .filter(s -> s.action().equals("SCMP_ACT_ALLOW"))
                .flatMap(s -> s.names().stream())
                .toList();
    }
}
