package dev.stagefarm.coordinator.plan;

import dev.stagefarm.oci.Healthcheck;
import dev.stagefarm.oci.HistoryEntry;
import dev.stagefarm.oci.ImageConfig;
import dev.stagefarm.oci.json.ImageConfigJson;
import dev.stagefarm.proto.farm.History;
import java.io.IOException;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The image config a stage builds up, instruction by instruction: the oci module's immutable
 * {@link ImageConfig}, replaced at each edit, read with the Dockerfile's defaults (workdir {@code /},
 * shell {@code /bin/sh -c}). The model keeps the base image's fields it does not know, so they reach
 * the final image untouched.
 */
public final class ImageConfigEditor {

    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private ImageConfig config;

    private ImageConfigEditor(ImageConfig config) {
        this.config = config;
    }

    public static ImageConfigEditor scratch() {
        // BuildKit gives FROM scratch the default PATH, so the image runs what it copies in
        return new ImageConfigEditor(
                ImageConfig.builder().env(List.of("PATH=" + DEFAULT_PATH)).build());
    }

    /** Edits start from {@code base}, a base image's config. */
    static ImageConfigEditor of(ImageConfig base) {
        return new ImageConfigEditor(base);
    }

    static ImageConfigEditor parse(byte[] json) {
        try {
            return new ImageConfigEditor(ImageConfigJson.parse(json));
        } catch (IOException e) {
            throw new IllegalArgumentException("base image config: " + e.getMessage(), e);
        }
    }

    public ImageConfigEditor copy() {
        return new ImageConfigEditor(config);
    }

    /** The config as it stands. */
    public ImageConfig config() {
        return config;
    }

    /** Env in order, as a map; a later duplicate wins, as in the runtime. */
    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : config.env()) {
            int eq = kv.indexOf('=');
            env.put(eq < 0 ? kv : kv.substring(0, eq), eq < 0 ? "" : kv.substring(eq + 1));
        }
        return env;
    }

    void setEnv(Map<String, String> env) {
        List<String> list = new ArrayList<>();
        env.forEach((k, v) -> list.add(k + "=" + v));
        config = config.withEnv(list);
    }

    String workdir() {
        String dir = config.workingDir();
        return dir == null || dir.isEmpty() ? "/" : dir;
    }

    void setWorkdir(String dir) {
        config = config.withWorkingDir(dir);
    }

    String user() {
        return config.user() == null ? "" : config.user();
    }

    void setUser(String user) {
        config = config.withUser(user);
    }

    List<String> shell() {
        List<String> shell = config.shell();
        return shell == null || shell.isEmpty() ? List.of("/bin/sh", "-c") : shell;
    }

    void setShell(List<String> shell) {
        config = config.toBuilder().shell(shell).build();
    }

    void setCmd(List<String> cmd) {
        config = config.withCmd(cmd);
    }

    /** Docker's {@code ArgsEscaped}, which the model keeps among the fields it does not interpret. */
    void setArgsEscaped() {
        Map<String, String> extra = new TreeMap<>(config.extraRunFields());
        extra.put("ArgsEscaped", "true");
        config = config.toBuilder().extraRunFields(extra).build();
    }

    void clearCmd() {
        config = config.withCmd(null);
    }

    void setEntrypoint(List<String> entrypoint) {
        config = config.withEntrypoint(entrypoint);
    }

    void addExposedPort(String port) {
        TreeSet<String> ports = new TreeSet<>(config.exposedPorts());
        ports.add(port);
        config = config.toBuilder().exposedPorts(ports).build();
    }

    void addVolume(String path) {
        TreeSet<String> volumes = new TreeSet<>(config.volumes());
        volumes.add(path);
        config = config.toBuilder().volumes(volumes).build();
    }

    public void putLabel(String key, String value) {
        Map<String, String> labels = new TreeMap<>(config.labels());
        labels.put(key, value);
        config = config.withLabels(labels);
    }

    void setStopSignal(String signal) {
        config = config.toBuilder().stopSignal(signal).build();
    }

    void setHealthcheck(
            List<String> test,
            Optional<Duration> interval,
            Optional<Duration> timeout,
            Optional<Duration> startPeriod,
            Optional<Duration> startInterval,
            Optional<Integer> retries) {
        config = config.toBuilder()
                .healthcheck(new Healthcheck(
                        test,
                        interval.orElse(null),
                        timeout.orElse(null),
                        startPeriod.orElse(null),
                        startInterval.orElse(null),
                        retries.orElse(0)))
                .build();
    }

    void putAuthor(String author) {
        config = config.toBuilder().author(author).build();
    }

    void addOnBuild(String expression) {
        List<String> triggers = new ArrayList<>(config.onBuild());
        triggers.add(expression);
        config = config.toBuilder().onBuild(triggers).build();
    }

    /** The base image's ONBUILD triggers, removed from this config: they fire once, in the next build. */
    List<String> takeOnBuild() {
        List<String> triggers = config.onBuild();
        config = config.toBuilder().onBuild(List.of()).build();
        return triggers;
    }

    /** The base image's history entries, all marked as coming before this build's steps. */
    List<History> history() {
        List<History> out = new ArrayList<>();
        for (HistoryEntry h : config.history()) {
            out.add(History.newBuilder()
                    .setCreatedBy(orEmpty(h.createdBy()))
                    .setCreated(h.created() == null ? "" : DateTimeFormatter.ISO_INSTANT.format(h.created()))
                    .setComment(orEmpty(h.comment()))
                    .setEmptyLayer(h.emptyLayer())
                    .setStepIndex(-1)
                    .build());
        }
        return out;
    }

    /** The config JSON without layers, history and creation time, which the assembling worker fills in. */
    public byte[] toJsonWithoutLayers() {
        return ImageConfigJson.toJson(config.toBuilder()
                .diffIds(List.of())
                .history(List.of())
                .created(null)
                .build());
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
