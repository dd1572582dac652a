package dev.stagefarm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Looks at exported images with third-party tools: tar and umoci, never with our own reader. */
final class Images {

    static final ObjectMapper JSON = new ObjectMapper();

    private Images() {}

    /** Unpacks an OCI layout tar into a runtime bundle with umoci; returns the bundle directory. */
    static Path unpackOci(Path ociTar, Path work, String tag) throws IOException, InterruptedException {
        Path layout = Files.createDirectories(work.resolve("layout"));
        Tools.run(work, "tar", "-xf", ociTar.toString(), "-C", layout.toString());
        Path bundle = work.resolve("bundle");
        Tools.run(work, "umoci", "unpack", "--image", layout + ":" + tag, bundle.toString());
        return bundle;
    }

    /** The image config as umoci's generated runtime spec and the layout's config blob say. */
    static JsonNode imageConfig(Path work) throws IOException {
        Path layout = work.resolve("layout");
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        JsonNode manifest =
                blob(layout, index.path("manifests").get(0).path("digest").asText());
        return blob(layout, manifest.path("config").path("digest").asText());
    }

    private static JsonNode blob(Path layout, String digest) throws IOException {
        return JSON.readTree(layout.resolve("blobs/sha256")
                .resolve(digest.substring("sha256:".length()))
                .toFile());
    }

    /** Makes umoci's runtime spec usable from the host: host network, no terminal. */
    static void hostNetwork(Path bundle) throws IOException {
        Path spec = bundle.resolve("config.json");
        ObjectNode root = (ObjectNode) JSON.readTree(spec.toFile());
        ((ObjectNode) root.path("process")).put("terminal", false);
        ArrayNode namespaces = (ArrayNode) root.path("linux").path("namespaces");
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            if (namespaces.get(i).path("type").asText().equals("network")) {
                namespaces.remove(i);
            }
        }
        JSON.writeValue(spec.toFile(), root);
    }

    static JsonNode metadata(Path file) throws IOException {
        return JSON.readTree(file.toFile());
    }

    static JsonNode stage(JsonNode metadata, String name) {
        for (JsonNode s : metadata.path("stagefarm.stages")) {
            if (s.path("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no stage " + name + " in " + metadata);
    }
}
