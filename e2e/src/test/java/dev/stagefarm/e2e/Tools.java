package dev.stagefarm.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real components the end-to-end tests need. A missing one fails the test, never skips it. */
final class Tools {

    private Tools() {}

    static void requireAll() throws IOException, InterruptedException {
        for (String tool : List.of("runc", "umoci")) {
            if (which(tool) == null) {
                throw new AssertionError(tool + " is not installed: run deploy/dev/host-deps.sh");
            }
        }
        if (!Files.isExecutable(Farm.LAUNCHER)) {
            throw new AssertionError(Farm.LAUNCHER + " is missing");
        }
        for (String image : List.of(
                "library/golang/manifests/latest",
                "library/alpine/manifests/latest",
                "library/busybox/manifests/latest")) {
            HttpRequest head = HttpRequest.newBuilder(URI.create("http://" + Farm.REGISTRY + "/v2/" + image))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header(
                            "Accept",
                            "application/vnd.oci.image.manifest.v1+json, "
                                    + "application/vnd.docker.distribution.manifest.v2+json, "
                                    + "application/vnd.oci.image.index.v1+json")
                    .build();
            int status;
            try {
                status = HttpClient.newHttpClient()
                        .send(head, HttpResponse.BodyHandlers.discarding())
                        .statusCode();
            } catch (IOException e) {
                throw new AssertionError("no registry on " + Farm.REGISTRY + ": run deploy/dev/registry.sh start", e);
            }
            if (status != 200) {
                throw new AssertionError(image + " is not published on " + Farm.REGISTRY + " (HTTP " + status
                        + "): run deploy/dev/base-images.sh");
            }
        }
    }

    static Path which(String tool) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/sbin").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Runs a command to its end; fails the test on a non-zero exit. */
    static String run(Path cwd, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd)))
                .directory(cwd.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }
}
