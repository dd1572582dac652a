package dev.stagefarm.worker.exec;

import dev.stagefarm.worker.exec.OciRuntimeSpec.Linux;
import dev.stagefarm.worker.exec.OciRuntimeSpec.Mount;
import java.util.ArrayList;
import java.util.List;

/**
 * What confines a step beyond Docker's namespaces and capabilities: Docker's default seccomp
 * profile for the step's capabilities, its own cgroup with the worker's limits, and a size on every
 * tmpfs (an unsized tmpfs may take half the host's memory, outside the step's cgroup limit).
 */
final class StepSandbox {

    private StepSandbox() {}

    static OciRuntimeSpec apply(
            OciRuntimeSpec spec, String cgroupsPath, OciRuntimeSpec.Resources resources, long tmpfsBytes) {
        Linux l = spec.linux();
        Linux confined = new Linux(
                l.namespaces(),
                l.maskedPaths(),
                l.readonlyPaths(),
                cgroupsPath,
                resources,
                Seccomp.dockerDefault(spec.process().capabilities().bounding()));
        return new OciRuntimeSpec(
                spec.ociVersion(),
                spec.process(),
                spec.root(),
                spec.hostname(),
                sizedTmpfs(spec.mounts(), tmpfsBytes),
                confined);
    }

    /** RUN --mount=type=tmpfs,size=... keeps its size; others get {@code tmpfsBytes}. */
    static List<Mount> sizedTmpfs(List<Mount> mounts, long tmpfsBytes) {
        List<Mount> out = new ArrayList<>();
        for (Mount m : mounts) {
            if (tmpfsBytes > 0
                    && m.type().equals("tmpfs")
                    && m.options().stream().noneMatch(o -> o.startsWith("size="))) {
                List<String> options = new ArrayList<>(m.options());
                options.add("size=" + tmpfsBytes);
                m = new Mount(m.destination(), m.type(), m.source(), options);
            }
            out.add(m);
        }
        return out;
    }
}
