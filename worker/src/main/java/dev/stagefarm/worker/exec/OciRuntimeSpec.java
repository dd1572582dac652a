package dev.stagefarm.worker.exec;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/** The parts of the OCI runtime spec (config.json) we write; wire format only, built by {@link RuntimeSpecFactory}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
record OciRuntimeSpec(String ociVersion, Process process, Root root, String hostname, List<Mount> mounts, Linux linux) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Process(
            boolean terminal,
            User user,
            List<String> args,
            List<String> env,
            String cwd,
            Capabilities capabilities,
            List<Rlimit> rlimits,
            boolean noNewPrivileges) {}

    record User(int uid, int gid, List<Integer> additionalGids) {}

    record Capabilities(List<String> bounding, List<String> effective, List<String> permitted) {}

    record Rlimit(String type, long hard, long soft) {}

    record Root(String path, boolean readonly) {}

    record Mount(String destination, String type, String source, List<String> options) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Linux(
            List<Namespace> namespaces,
            List<String> maskedPaths,
            List<String> readonlyPaths,
            String cgroupsPath,
            Resources resources,
            Seccomp.Profile seccomp) {

        Linux(List<Namespace> namespaces, List<String> maskedPaths, List<String> readonlyPaths) {
            this(namespaces, maskedPaths, readonlyPaths, null, null, null);
        }
    }

    /** {@code unified}: cgroup v2 files by name, for what the v1-shaped fields cannot say. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Resources(Memory memory, Pids pids, Cpu cpu, Map<String, String> unified) {}

    record Memory(long limit) {}

    record Pids(long limit) {}

    record Cpu(long shares) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Namespace(String type, String path) {
        Namespace(String type) {
            this(type, null);
        }
    }
}
