package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.exec.OciRuntimeSpec.Capabilities;
import dev.stagefarm.worker.exec.OciRuntimeSpec.Linux;
import dev.stagefarm.worker.exec.OciRuntimeSpec.Mount;
import dev.stagefarm.worker.exec.OciRuntimeSpec.Namespace;
import dev.stagefarm.worker.exec.OciRuntimeSpec.Rlimit;
import dev.stagefarm.worker.exec.OciRuntimeSpec.Root;
import dev.stagefarm.worker.exec.OciRuntimeSpec.User;
import dev.stagefarm.worker.net.StepNetwork;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Docker's default container settings, as an OCI runtime spec for one process. */
final class RuntimeSpecFactory {

    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Docker's default capability set. */
    static final List<String> CAPABILITIES = List.of(
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_FSETID",
            "CAP_FOWNER",
            "CAP_MKNOD",
            "CAP_NET_RAW",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETFCAP",
            "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE",
            "CAP_SYS_CHROOT",
            "CAP_KILL",
            "CAP_AUDIT_WRITE");

    static final List<String> MASKED_PATHS = List.of(
            "/proc/asound",
            "/proc/acpi",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/proc/scsi",
            "/sys/firmware",
            "/sys/devices/virtual/powercap");

    static final List<String> READONLY_PATHS =
            List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    /** Where the executor bind-mounts files of its own; runc creates them in the rootfs when missing. */
    static final List<String> MOUNT_DESTINATIONS = List.of("/proc", "/dev", "/sys", "/etc/resolv.conf", "/etc/hosts");

    private RuntimeSpecFactory() {}

    /**
     * @param rootfs the container's root (an overlay's merged directory), mounted writable
     * @param resolvConf host file bind-mounted read-only at /etc/resolv.conf
     * @param hosts generated file bind-mounted read-only at /etc/hosts
     * @param network the host's, a prepared namespace to join, or a new one with only loopback
     */
    static OciRuntimeSpec create(
            ProcessSpec spec,
            ContainerUser user,
            Path rootfs,
            String hostname,
            Path resolvConf,
            Path hosts,
            StepNetwork network) {
        var process = new OciRuntimeSpec.Process(
                false,
                new User(user.uid(), user.gid(), user.additionalGids().isEmpty() ? null : user.additionalGids()),
                spec.args(),
                environment(spec.env(), user.home()),
                spec.cwd(),
                new Capabilities(CAPABILITIES, CAPABILITIES, CAPABILITIES),
                List.of(new Rlimit("RLIMIT_NOFILE", HostLimits.nofile(), HostLimits.nofile())),
                true);
        return new OciRuntimeSpec(
                "1.0.2",
                process,
                new Root(rootfs.toString(), false),
                hostname,
                mounts(resolvConf, hosts, spec.mounts()),
                new Linux(namespaces(network), MASKED_PATHS, READONLY_PATHS));
    }

    /** The process environment with PATH and HOME filled in when the build did not set them. */
    static List<String> environment(List<String> env, String home) {
        List<String> out = new ArrayList<>(env);
        if (env.stream().noneMatch(e -> e.startsWith("PATH="))) {
            out.add("PATH=" + DEFAULT_PATH);
        }
        if (env.stream().noneMatch(e -> e.startsWith("HOME="))) {
            out.add("HOME=" + home); // Go's build cache, pip, npm... all need a HOME
        }
        return out;
    }

    private static List<Namespace> namespaces(StepNetwork network) {
        List<Namespace> ns = new ArrayList<>(
                List.of(new Namespace("mount"), new Namespace("pid"), new Namespace("ipc"), new Namespace("uts")));
        if (!network.hostNetwork()) {
            // without a path runc makes a new namespace and brings up its lo
            ns.add(new Namespace(
                    "network", network.namespace().map(Path::toString).orElse(null)));
        }
        return ns;
    }

    // No /sys/fs/cgroup mount: on cgroup v1 hosts runc would have to mount every hierarchy, and a
    // build step has no business there.
    private static List<Mount> mounts(Path resolvConf, Path hosts, List<ProcessSpec.ExtraMount> extra) {
        List<String> roBind = List.of("rbind", "ro", "nosuid", "nodev", "noexec");
        List<Mount> mounts = new ArrayList<>(List.of(
                new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                new Mount(
                        "/dev/pts",
                        "devpts",
                        "devpts",
                        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
                new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
                new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
                new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
                new Mount("/etc/resolv.conf", "bind", resolvConf.toString(), roBind),
                new Mount("/etc/hosts", "bind", hosts.toString(), roBind)));
        // after the defaults, so that a RUN --mount under /dev or /run lands on top of them
        for (ProcessSpec.ExtraMount m : extra) {
            mounts.add(new Mount(m.destination(), m.type(), m.source(), m.options()));
        }
        return mounts;
    }
}
