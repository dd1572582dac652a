package dev.stagefarm.cli.commands;

import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.EmbeddedFarm;
import dev.stagefarm.cli.build.OutputSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * The training run of the JDK's AOT cache (deploy/dev/aot-train.sh), hidden from help: one JVM
 * that builds a context both ways a user's {@code stagefarm build} can go, so the cache holds the
 * classes of each. First through a farm on Unix sockets (Netty client and server, what a build
 * against {@code stagefarm farm start} and the farm itself load), then through the in-process
 * embedded farm (the default driver).
 */
@Command(
        name = "aot-workload",
        hidden = true,
        description = "Build CONTEXT through a local farm and through the embedded farm, to train the AOT cache.")
public final class AotWorkloadCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "CONTEXT")
    Path context;

    @Parameters(index = "1", paramLabel = "WORKDIR", description = "Scratch space, emptied by the caller.")
    Path work;

    @Mixin
    RegistryOptions registries;

    @Override
    public Integer call() throws Exception {
        BuildClient client = new BuildClient(System.out, System.err);
        try (EmbeddedFarm farm = EmbeddedFarm.serve(
                work.resolve("farm-data"),
                1,
                registries.config(),
                Files.createDirectories(work.resolve("sockets")),
                new SimpleMeterRegistry(),
                List.of())) {
            farm.awaitWorkers();
            if (client.build(farm.coordinatorAddress(), request(work.resolve("farm.oci.tar"))) != 0) {
                return 1;
            }
        }
        try (EmbeddedFarm farm = EmbeddedFarm.start(work.resolve("embedded-data"), 1, registries.config())) {
            return client.build(farm.coordinatorAddress(), request(work.resolve("embedded.oci.tar")));
        }
    }

    private BuildClient.Request request(Path output) {
        return BuildClient.Request.plain(
                context, "aot:train", OutputSpec.parse("type=oci,dest=" + output), registries.config());
    }
}
