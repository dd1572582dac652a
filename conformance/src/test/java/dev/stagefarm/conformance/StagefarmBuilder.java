package dev.stagefarm.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds a case with {@code bin/stagefarm build} (the embedded farm, one data directory shared by
 * every case so base images are pulled once) into an OCI layout, and unpacks it with umoci: the
 * image is read by third-party tools, never by stagefarm's own reader.
 */
final class StagefarmBuilder {

    static final Path REPO =
            Path.of(System.getProperty("stagefarm.repo", "..")).toAbsolutePath().normalize();
    static final Path LAUNCHER = REPO.resolve("bin/stagefarm");
    static final String REGISTRY = "127.0.0.1:5000";
    private static final String TAG = "case";

    private final Path data;

    StagefarmBuilder(Path data) {
        this.data = data;
        if (!Files.isExecutable(LAUNCHER)) {
            throw new AssertionError(LAUNCHER + " is missing: build the project first (./mvnw install)");
        }
        Processes.require("runc");
        Processes.require("umoci");
    }

    BuildOutcome build(ConformanceCase c, Path context, Path work) throws IOException, InterruptedException {
        Path oci = work.resolve("stagefarm.oci.tar");
        List<String> cmd = new ArrayList<>(List.of(
                LAUNCHER.toString(),
                "build",
                "--data",
                data.toString(),
                "--progress",
                "plain",
                "-f",
                context.resolve(c.dockerfile()).toString(),
                "-t",
                "conformance/" + c.name() + ":" + TAG,
                "--output",
                "type=oci,dest=" + oci,
                "--registry-mirror",
                "docker.io=http://" + REGISTRY,
                "--insecure-registry",
                REGISTRY,
                // case 86 ADDs a URL on the local registry, a loopback address the farm refuses
                // unless its operator allows that one endpoint (the same as a farm in production)
                "--allow-fetch",
                REGISTRY));
        c.target().ifPresent(t -> cmd.addAll(List.of("--target", t)));
        c.buildArgs().forEach((k, v) -> cmd.addAll(List.of("--build-arg", k + "=" + v)));
        cmd.add(context.toString());
        Instant started = Instant.now();
        Processes.Result result =
                Processes.run(cmd, Map.of(), work.resolve("stagefarm-build.log"), Duration.ofMinutes(15));
        if (!result.ok()) {
            return new BuildOutcome("stagefarm", result, null);
        }
        Path layout = Files.createDirectories(work.resolve("stagefarm-layout"));
        Processes.check(
                List.of("tar", "-xf", oci.toString(), "-C", layout.toString()), Map.of(), work.resolve("untar.log"));
        Path bundle = work.resolve("stagefarm-bundle");
        Processes.check(
                List.of("umoci", "unpack", "--image", layout + ":" + TAG, bundle.toString()),
                Map.of(),
                work.resolve("umoci.log"));
        Files.delete(oci); // the layout holds the same bytes
        JsonNode image = imageConfig(layout);
        return new BuildOutcome(
                "stagefarm",
                result,
                new BuiltImage(
                        bundle.resolve("rootfs"),
                        image.path("config"),
                        image.path("history"),
                        image.path("created").asText(""),
                        started));
    }

    private static JsonNode imageConfig(Path layout) throws IOException {
        JsonNode index =
                ConformanceCase.JSON.readTree(layout.resolve("index.json").toFile());
        JsonNode manifest =
                blob(layout, index.path("manifests").get(0).path("digest").asText());
        return blob(layout, manifest.path("config").path("digest").asText());
    }

    private static JsonNode blob(Path layout, String digest) throws IOException {
        return ConformanceCase.JSON.readTree(layout.resolve("blobs/sha256")
                .resolve(digest.substring("sha256:".length()))
                .toFile());
    }
}
