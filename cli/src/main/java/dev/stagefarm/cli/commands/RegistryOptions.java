package dev.stagefarm.cli.commands;

import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The registry flags every command that talks to registries shares, spelled as dockerd's. */
public final class RegistryOptions {

    @Option(
            names = "--registry-mirror",
            paramLabel = "REGISTRY=URL",
            description = "Pull REGISTRY's images through a mirror, e.g. docker.io=http://127.0.0.1:5000 (repeatable).")
    List<String> mirrors = new ArrayList<>();

    @Option(
            names = "--insecure-registry",
            paramLabel = "HOST:PORT",
            description = "Talk plain HTTP to this registry (repeatable).")
    List<String> insecure = new ArrayList<>();

    public RegistryConfig config() {
        return RegistryConfig.fromFlags(mirrors, insecure);
    }

    public RegistryClient client() throws IOException {
        return new RegistryClient(config(), CredentialStore.fromDockerConfig());
    }

    public List<String> mirrors() {
        return List.copyOf(mirrors);
    }

    /** These flags as a command line, for a process started with the same registries. */
    List<String> asArguments() {
        List<String> args = new ArrayList<>();
        mirrors.forEach(m -> args.addAll(List.of("--registry-mirror", m)));
        insecure.forEach(i -> args.addAll(List.of("--insecure-registry", i)));
        return args;
    }

    public List<String> insecure() {
        return List.copyOf(insecure);
    }
}
