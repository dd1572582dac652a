package dev.stagefarm.cli.commands;

import dev.stagefarm.cli.build.BuildClient;
import dev.stagefarm.cli.build.EmbeddedFarm;
import dev.stagefarm.cli.build.OutputSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The training run of the JDK's AOT cache (deploy/dev/aot-train.sh), hidden from help: one JVM
 * that builds a context both ways a user's {@code stagefarm build} can go, so the cache holds the
 * classes of each. First through a farm on Unix sockets (Netty client and server, what a build
 * against {@code stagefarm farm start} and the farm itself load), then through the in-process
 * embedded farm (the default driver).
 *
 * <p>The cache also holds the method profiles of the training run (JEP 515), which let a JVM
 * compile its hot methods early instead of over its first few dozen builds. One build leaves few
 * profiles worth having, so {@code --repeat N} builds the context N more times through the farm,
 * each with a new {@code TRAINING_ROUND} build argument so that its RUN steps run again: the farm
 * then starts with the profiles of one that has served many builds (bench/README.md, "Run 13").
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

    @Option(
            names = "--repeat",
            defaultValue = "0",
            description = "Build CONTEXT this many more times through the farm, TRAINING_ROUND set to each round.")
    int repeat;

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
            BuildClient.Request again = BuildClient.Request.plain(
                    context,
                    "aot:train",
                    OutputSpec.parse("type=docker,dest=" + work.resolve("farm.docker.tar")),
                    registries.config());
            for (int round = 1; round <= repeat; round++) {
                if (client.build(
                                farm.coordinatorAddress(),
                                again.withBuildArgs(Map.of("TRAINING_ROUND", String.valueOf(round))))
                        != 0) {
                    return 1;
                }
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
