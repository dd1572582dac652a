package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's example, built by a farm of separate processes: cache-server, coordinator and two
 * workers talking gRPC over loopback, base images from the local registry.
 */
@Tag("e2e")
class GoWebEndToEndTest {

    @TempDir
    static Path dir;

    static Farm farm;
    static Path example = Farm.REPO.resolve("examples/go-web");

    @BeforeAll
    static void startFarm() throws Exception {
        farm = new Farm(dir, "w1", "w2");
    }

    @AfterAll
    static void stopFarm() throws Exception {
        if (farm != null) {
            farm.close();
        }
    }

    /**
     * One user's story, in order: a cold build, a rebuild that is cached throughout, then a new
     * worker that builds a changed final stage from the team cache alone. Each phase needs the
     * state the previous one left, so they are one test, not three ordered ones.
     */
    @Test
    void coldBuildThenCachedRebuildThenAFreshWorker() throws Exception {
        buildsRunsAndPlacesTheFinalStageWithItsArtifact();
        rebuildIsFullyCached();
        aFreshWorkerIsServedFromTheCache();
    }

    private void buildsRunsAndPlacesTheFinalStageWithItsArtifact() throws Exception {
        Path oci = dir.resolve("go-web.oci.tar");
        Path meta = dir.resolve("meta1.json");
        farm.build(
                        "-t",
                        "go-web:e2e",
                        "--output",
                        "type=oci,dest=" + oci,
                        "--metadata-file",
                        meta.toString(),
                        example.toString())
                .assertOk();

        JsonNode metadata = Images.metadata(meta);
        assertThat(metadata.path("containerimage.digest").asText()).startsWith("sha256:");
        JsonNode builder = Images.stage(metadata, "builder");
        JsonNode fin = Images.stage(metadata, "stage-1");
        assertThat(builder.path("cached").asBoolean()).isFalse();
        assertThat(fin.path("worker").asText())
                .as("the final stage runs where /app/main was built")
                .isEqualTo(builder.path("worker").asText());
        assertThat(fin.path("fetchedBytes").asLong())
                .as("nothing crossed for the final stage")
                .isZero();

        Path work = Files.createDirectories(dir.resolve("unpack1"));
        Path bundle = Images.unpackOci(oci, work, "e2e");
        JsonNode config = Images.imageConfig(work).path("config");
        assertThat(config.path("Cmd").toString()).isEqualTo("[\"./main\"]");
        assertThat(config.path("WorkingDir").asText()).isEqualTo("/app");
        assertThat(config.path("ExposedPorts").has("8080/tcp")).isTrue();
        assertThat(bundle.resolve("rootfs/app/main")).isExecutable();
        assertThat(bundle.resolve("rootfs/usr/bin/go"))
                .as("no build tools in the final image")
                .doesNotExist();

        Images.hostNetwork(bundle);
        assertThat(serve(bundle)).contains("hello from stagefarm");
    }

    private void rebuildIsFullyCached() throws Exception {
        Path meta = dir.resolve("meta2.json");
        Farm.Result again = farm.build("-t", "go-web:e2e", "--metadata-file", meta.toString(), example.toString())
                .assertOk();
        long steps =
                again.output().lines().filter(l -> l.matches("#\\d+ \\[.*")).count();
        long cached =
                again.output().lines().filter(l -> l.matches("#\\d+ CACHED")).count();
        assertThat(steps).isGreaterThanOrEqualTo(8);
        assertThat(cached).as("every step says CACHED").isEqualTo(steps);
        for (JsonNode s : Images.metadata(meta).path("stagefarm.stages")) {
            assertThat(s.path("cached").asBoolean()).as(s.toString()).isTrue();
        }
        // what an operator sees on the coordinator's Prometheus endpoint
        String metrics = farm.coordinatorMetrics();
        assertThat(metrics)
                .containsPattern("stagefarm_stages_total\\{outcome=\"cached\"\\} [2-9](\\.0)?\\b")
                .containsPattern("stagefarm_builds_total\\{result=\"ok\"\\} 2(\\.0)?\\b")
                .containsPattern("stagefarm_workers_connected 2(\\.0)?\\b");
    }

    private void aFreshWorkerIsServedFromTheCache() throws Exception {
        farm.stop("w1");
        farm.stop("w2");
        farm.startWorker("fresh");
        farm.awaitWorkers("fresh");
        // the same context with one more final-stage step (the Dockerfile lives outside the context,
        // which COPY . . would otherwise pick up): everything before that step comes from the cache
        Path dockerfile = dir.resolve("Dockerfile.plus");
        Files.writeString(
                dockerfile, Files.readString(example.resolve("Dockerfile")) + "RUN ls -l /app/main > /app/listing\n");
        Path meta = dir.resolve("meta3.json");
        Farm.Result r = farm.build(
                        "-f",
                        dockerfile.toString(),
                        "-t",
                        "go-web:plus",
                        "--metadata-file",
                        meta.toString(),
                        example.toString())
                .assertOk();
        JsonNode metadata = Images.metadata(meta);
        assertThat(Images.stage(metadata, "builder").path("cached").asBoolean()).isTrue();
        JsonNode fin = Images.stage(metadata, "stage-1");
        assertThat(fin.path("worker").asText()).isEqualTo("fresh");
        assertThat(fin.path("fetchedBytes").asLong())
                .as("layers came from the cache-server")
                .isPositive();
        assertThat(r.output()).contains("RUN ls -l /app/main");
        assertThat(r.output().lines().filter(l -> l.contains("RUN go build")).count())
                .isEqualTo(1);
        assertThat(r.output()).containsPattern("RUN go build -o main \\.\\s*\\n#\\d+ CACHED");
    }

    /** Runs the unpacked image with runc and returns what its HTTP server answers on 8080. */
    private static String serve(Path bundle) throws IOException, InterruptedException {
        String id = "sf-e2e-" + Long.toHexString(System.nanoTime());
        Process runc = new ProcessBuilder(List.of("runc", "run", "-d", "--bundle", bundle.toString(), id))
                .redirectErrorStream(true)
                .redirectOutput(bundle.resolveSibling("runc.log").toFile())
                .start();
        try {
            assertThat(runc.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(runc.exitValue())
                    .as(Files.readString(bundle.resolveSibling("runc.log")))
                    .isZero();
            return Waits.awaitHttpBody("http://127.0.0.1:8080/", Duration.ofSeconds(20));
        } finally {
            new ProcessBuilder("runc", "delete", "--force", id).start().waitFor(20, TimeUnit.SECONDS);
        }
    }
}
