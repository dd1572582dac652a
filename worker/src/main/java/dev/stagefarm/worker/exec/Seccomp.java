package dev.stagefarm.worker.exec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Docker's default seccomp profile ({@code seccomp/default.json}, moby's data file) turned into the
 * OCI runtime spec's {@code linux.seccomp} for one host architecture and one capability set: rules
 * that {@code includes}/{@code excludes} a capability, an architecture or a minimum kernel are
 * kept or dropped the way Docker does when it starts a container.
 */
final class Seccomp {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RESOURCE = "/seccomp/default.json";

    /** The profile's architecture names (libseccomp's) by Java's {@code os.arch}. */
    private static final Map<String, String> NATIVE_ARCH = Map.of(
            "amd64", "amd64",
            "x86_64", "amd64",
            "aarch64", "arm64",
            "arm64", "arm64",
            "ppc64le", "ppc64le",
            "s390x", "s390x",
            "riscv64", "riscv64",
            "loongarch64", "loong64");

    private static final Map<String, String> SECCOMP_ARCH = Map.of(
            "amd64", "SCMP_ARCH_X86_64",
            "arm64", "SCMP_ARCH_AARCH64",
            "ppc64le", "SCMP_ARCH_PPC64LE",
            "s390x", "SCMP_ARCH_S390X",
            "riscv64", "SCMP_ARCH_RISCV64",
            "loong64", "SCMP_ARCH_LOONGARCH64");

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Profile(String defaultAction, Integer defaultErrnoRet, List<String> architectures, List<Syscall> syscalls) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Syscall(List<String> names, String action, Integer errnoRet, List<Arg> args) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Arg(int index, long value, Long valueTwo, String op) {}

    private static volatile JsonNode dockerDefault;

    private Seccomp() {}

    /**
     * Translations already made, by capability set: the profile, the architecture and the kernel
     * do not change while the worker runs, and every step would otherwise walk the ~400 rules
     * again (a step's few capability sets make this a handful of entries).
     */
    private static final Map<List<String>, Profile> TRANSLATED = new ConcurrentHashMap<>();

    /** Docker's default profile for this JVM's architecture and the host kernel. */
    static Profile dockerDefault(List<String> capabilities) {
        return TRANSLATED.computeIfAbsent(
                List.copyOf(capabilities),
                caps -> translate(
                        loadDefault(),
                        NATIVE_ARCH.getOrDefault(System.getProperty("os.arch"), System.getProperty("os.arch")),
                        caps,
                        KernelVersion.host()));
    }

    static JsonNode loadDefault() {
        JsonNode profile = dockerDefault;
        if (profile == null) {
            try (InputStream in = Seccomp.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(RESOURCE + " is missing from the worker's jar");
                }
                profile = JSON.readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RESOURCE, e);
            }
            dockerDefault = profile;
        }
        return profile;
    }

    /**
     * @param arch the profile's name for the host architecture ("amd64", "arm64", ...)
     * @param capabilities the process's bounding set: rules for capabilities it has are kept
     */
    static Profile translate(JsonNode moby, String arch, List<String> capabilities, KernelVersion kernel) {
        List<String> architectures = new ArrayList<>();
        String nativeArch = SECCOMP_ARCH.get(arch);
        for (JsonNode a : moby.path("archMap")) {
            if (a.path("architecture").asText().equals(nativeArch)) {
                architectures.add(nativeArch);
                a.path("subArchitectures").forEach(s -> architectures.add(s.asText()));
            }
        }
        List<Syscall> syscalls = new ArrayList<>();
        for (JsonNode rule : moby.path("syscalls")) {
            if (applies(rule, arch, capabilities, kernel)) {
                syscalls.add(syscall(rule));
            }
        }
        return new Profile(
                moby.path("defaultAction").asText(),
                moby.has("defaultErrnoRet") ? moby.get("defaultErrnoRet").asInt() : null,
                architectures.isEmpty() ? null : List.copyOf(architectures),
                List.copyOf(syscalls));
    }

    private static boolean applies(JsonNode rule, String arch, List<String> caps, KernelVersion kernel) {
        JsonNode ex = rule.path("excludes");
        if (contains(ex.path("arches"), arch)) {
            return false;
        }
        for (JsonNode c : ex.path("caps")) {
            if (caps.contains(c.asText())) {
                return false;
            }
        }
        if (ex.has("minKernel") && kernel.atLeast(ex.get("minKernel").asText())) {
            return false;
        }
        JsonNode in = rule.path("includes");
        if (!in.path("arches").isEmpty() && !contains(in.path("arches"), arch)) {
            return false;
        }
        for (JsonNode c : in.path("caps")) {
            if (!caps.contains(c.asText())) {
                return false;
            }
        }
        return !in.has("minKernel") || kernel.atLeast(in.get("minKernel").asText());
    }

    private static boolean contains(JsonNode array, String value) {
        for (JsonNode v : array) {
            if (v.asText().equals(value)) {
                return true;
            }
        }
        return false;
    }

    private static Syscall syscall(JsonNode rule) {
        List<String> names = new ArrayList<>();
        if (rule.has("name")) {
            names.add(rule.get("name").asText());
        }
        rule.path("names").forEach(n -> names.add(n.asText()));
        List<Arg> args = new ArrayList<>();
        for (JsonNode a : rule.path("args")) {
            args.add(new Arg(
                    a.path("index").asInt(),
                    a.path("value").asLong(),
                    a.path("valueTwo").asLong() == 0 ? null : a.path("valueTwo").asLong(),
                    a.path("op").asText()));
        }
        return new Syscall(
                List.copyOf(names),
                rule.path("action").asText(),
                rule.has("errnoRet") ? rule.get("errnoRet").asInt() : null,
                args.isEmpty() ? null : List.copyOf(args));
    }
}
