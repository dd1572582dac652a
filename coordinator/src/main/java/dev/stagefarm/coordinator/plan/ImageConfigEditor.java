package dev.stagefarm.coordinator.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.proto.farm.History;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The image config a stage builds up, instruction by instruction. It edits the base image's own
 * JSON so that fields this builder does not model are carried through untouched.
 */
public final class ImageConfigEditor {

    private static final ObjectMapper JSON =
            new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final ObjectNode root;

    private ImageConfigEditor(ObjectNode root) {
        this.root = root;
    }

    public static ImageConfigEditor scratch() {
        ObjectNode root = JSON.createObjectNode();
        root.put("architecture", "amd64");
        root.put("os", "linux");
        // BuildKit gives FROM scratch the default PATH, so the image runs what it copies in
        root.putObject("config").putArray("Env").add("PATH=" + DEFAULT_PATH);
        return new ImageConfigEditor(root);
    }

    static ImageConfigEditor parse(byte[] json) {
        try {
            return new ImageConfigEditor((ObjectNode) JSON.readTree(json));
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException("base image config is not a JSON object: " + e.getMessage(), e);
        }
    }

    public ImageConfigEditor copy() {
        return new ImageConfigEditor(root.deepCopy());
    }

    private ObjectNode config() {
        JsonNode c = root.get("config");
        return c instanceof ObjectNode o ? o : root.putObject("config");
    }

    /** Env in order, as a map; a later duplicate wins, as in the runtime. */
    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : strings(config().get("Env"))) {
            int eq = kv.indexOf('=');
            env.put(eq < 0 ? kv : kv.substring(0, eq), eq < 0 ? "" : kv.substring(eq + 1));
        }
        return env;
    }

    void setEnv(Map<String, String> env) {
        ArrayNode a = config().putArray("Env");
        env.forEach((k, v) -> a.add(k + "=" + v));
    }

    String workdir() {
        return text(config(), "WorkingDir").filter(s -> !s.isEmpty()).orElse("/");
    }

    void setWorkdir(String dir) {
        config().put("WorkingDir", dir);
    }

    String user() {
        return text(config(), "User").orElse("");
    }

    void setUser(String user) {
        config().put("User", user);
    }

    List<String> shell() {
        List<String> shell = strings(config().get("Shell"));
        return shell.isEmpty() ? List.of("/bin/sh", "-c") : shell;
    }

    void setShell(List<String> shell) {
        putStrings("Shell", shell);
    }

    void setCmd(List<String> cmd) {
        putStrings("Cmd", cmd);
    }

    void setArgsEscaped() {
        config().put("ArgsEscaped", true);
    }

    void clearCmd() {
        config().putNull("Cmd");
    }

    void setEntrypoint(List<String> entrypoint) {
        putStrings("Entrypoint", entrypoint);
    }

    void addExposedPort(String port) {
        ObjectNode ports =
                config().get("ExposedPorts") instanceof ObjectNode o ? o : config().putObject("ExposedPorts");
        ports.putObject(port);
    }

    void addVolume(String path) {
        ObjectNode vols = config().get("Volumes") instanceof ObjectNode o ? o : config().putObject("Volumes");
        vols.putObject(path);
    }

    public void putLabel(String key, String value) {
        ObjectNode labels = config().get("Labels") instanceof ObjectNode o ? o : config().putObject("Labels");
        labels.put(key, value);
    }

    void setStopSignal(String signal) {
        config().put("StopSignal", signal);
    }

    void setHealthcheck(
            List<String> test,
            Optional<Long> intervalNanos,
            Optional<Long> timeoutNanos,
            Optional<Long> startPeriodNanos,
            Optional<Long> startIntervalNanos,
            Optional<Integer> retries) {
        ObjectNode hc = config().putObject("Healthcheck");
        ArrayNode t = hc.putArray("Test");
        test.forEach(t::add);
        intervalNanos.ifPresent(v -> hc.put("Interval", v));
        timeoutNanos.ifPresent(v -> hc.put("Timeout", v));
        startPeriodNanos.ifPresent(v -> hc.put("StartPeriod", v));
        startIntervalNanos.ifPresent(v -> hc.put("StartInterval", v));
        retries.ifPresent(v -> hc.put("Retries", v));
    }

    void putAuthor(String author) {
        root.put("author", author);
    }

    void addOnBuild(String expression) {
        ArrayNode a = config().get("OnBuild") instanceof ArrayNode o ? o : config().putArray("OnBuild");
        a.add(expression);
    }

    /** The base image's ONBUILD triggers, removed from this config: they fire once, in the next build. */
    List<String> takeOnBuild() {
        List<String> triggers = strings(config().get("OnBuild"));
        if (config().has("OnBuild")) {
            config().putNull("OnBuild");
        }
        return triggers;
    }

    /** The base image's history entries, all marked as coming before this build's steps. */
    List<History> history() {
        List<History> out = new ArrayList<>();
        if (root.get("history") instanceof ArrayNode arr) {
            for (JsonNode h : arr) {
                out.add(History.newBuilder()
                        .setCreatedBy(h.path("created_by").asText(""))
                        .setCreated(h.path("created").asText(""))
                        .setComment(h.path("comment").asText(""))
                        .setEmptyLayer(h.path("empty_layer").asBoolean(false))
                        .setStepIndex(-1)
                        .build());
            }
        }
        return out;
    }

    /** The config JSON without rootfs and history, which the assembling worker fills in. */
    public byte[] toJsonWithoutLayers() {
        ObjectNode c = root.deepCopy();
        c.remove("rootfs");
        c.remove("history");
        c.remove("created");
        try {
            return JSON.writeValueAsBytes(c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void putStrings(String field, List<String> values) {
        ArrayNode a = config().putArray(field);
        values.forEach(a::add);
    }

    private static Optional<String> text(ObjectNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }

    private static List<String> strings(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node instanceof ArrayNode arr) {
            arr.forEach(n -> out.add(n.asText()));
        }
        return out;
    }
}
