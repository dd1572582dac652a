package dev.stagefarm.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The manifests under deploy/k8s, rendered by the real {@code kubectl kustomize}. */
public final class Kustomize {

    private static final ObjectMapper YAML = new YAMLMapper();

    private Kustomize() {}

    /** The repository's deploy/k8s, found from the module's working directory. */
    public static Path k8sDir() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/k8s/overlays"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException(
                    "no deploy/k8s/overlays above " + Path.of("").toAbsolutePath());
        }
        return dir.resolve("deploy/k8s");
    }

    /** Every overlay directory (deploy/k8s/overlays/*), sorted by name. */
    public static List<Path> overlays() throws IOException {
        try (Stream<Path> dirs = Files.list(k8sDir().resolve("overlays"))) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml")))
                    .sorted()
                    .toList();
        }
    }

    /** The objects {@code kubectl kustomize dir} prints; a failure carries kubectl's own message. */
    public static List<JsonNode> render(Path dir) throws IOException, InterruptedException {
        Path kubectl = kubectl();
        Process p = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString())
                .redirectErrorStream(false)
                .start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError("kubectl kustomize " + dir + " failed: " + err.strip());
        }
        return parse(new String(out, StandardCharsets.UTF_8));
    }

    /** Multi-document YAML to one node per non-empty document. */
    public static List<JsonNode> parse(String yaml) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(yaml)) {
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isEmpty()) {
                    docs.add(doc);
                }
            }
        }
        return docs;
    }

    /**
     * kubectl from PATH, /usr/local/bin or /usr/bin. A missing one fails, with what to do: Debian's
     * own kubectl (1.20) carries a kustomize too old for these kustomizations.
     */
    static Path kubectl() {
        List<Path> candidates = new ArrayList<>();
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty()) {
                candidates.add(Path.of(d, "kubectl"));
            }
        }
        candidates.add(Path.of("/usr/local/bin/kubectl"));
        candidates.add(Path.of("/usr/bin/kubectl"));
        return candidates.stream()
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new AssertionError("kubectl is not installed: the manifest tests render deploy/k8s"
                        + " with `kubectl kustomize`; install kubectl >= 1.27 (kustomize v5) from the Kubernetes"
                        + " release, not Debian's kubectl 1.20, whose kustomize is too old for these files"));
    }

    public static String describe(JsonNode object) {
        return object.path("kind").asText() + " "
                + object.path("metadata").path("namespace").asText("-") + "/"
                + object.path("metadata").path("name").asText();
    }
}
