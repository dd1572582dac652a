package dev.stagefarm.oci;

import dev.stagefarm.common.Digest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An image configuration (what {@code docker inspect} shows), immutable. Build one with {@link #builder()}
 * or change one with {@link #toBuilder()} and the withers. Serialization lives in
 * {@code dev.stagefarm.oci.json.ImageConfigJson}, apart from this model.
 *
 * <p>Fields this model does not know are kept as raw JSON text ({@link #extraFields()} at the top level,
 * {@link #extraRunFields()} inside {@code config}) so that reading and writing a config back loses nothing.
 * Lists that Docker distinguishes as "unset" ({@code Entrypoint}, {@code Cmd}, {@code Shell}) are null when
 * unset; every other collection is empty rather than null.
 */
public final class ImageConfig {

    private final String architecture;
    private final String os;
    private final String variant;
    private final Instant created;
    private final String author;
    private final String user;
    private final List<String> env;
    private final List<String> entrypoint;
    private final List<String> cmd;
    private final String workingDir;
    private final SortedSet<String> exposedPorts;
    private final SortedSet<String> volumes;
    private final SortedMap<String, String> labels;
    private final String stopSignal;
    private final Healthcheck healthcheck;
    private final List<String> onBuild;
    private final List<String> shell;
    private final String rootfsType;
    private final List<Digest> diffIds;
    private final List<HistoryEntry> history;
    private final SortedMap<String, String> extraFields;
    private final SortedMap<String, String> extraRunFields;

    private ImageConfig(Builder b) {
        architecture = b.architecture;
        os = b.os;
        variant = b.variant;
        created = b.created;
        author = b.author;
        user = b.user;
        env = List.copyOf(b.env);
        entrypoint = b.entrypoint == null ? null : List.copyOf(b.entrypoint);
        cmd = b.cmd == null ? null : List.copyOf(b.cmd);
        workingDir = b.workingDir;
        exposedPorts = Collections.unmodifiableSortedSet(new TreeSet<>(b.exposedPorts));
        volumes = Collections.unmodifiableSortedSet(new TreeSet<>(b.volumes));
        labels = Collections.unmodifiableSortedMap(new TreeMap<>(b.labels));
        stopSignal = b.stopSignal;
        healthcheck = b.healthcheck;
        onBuild = List.copyOf(b.onBuild);
        shell = b.shell == null ? null : List.copyOf(b.shell);
        rootfsType = b.rootfsType;
        diffIds = List.copyOf(b.diffIds);
        history = List.copyOf(b.history);
        extraFields = Collections.unmodifiableSortedMap(new TreeMap<>(b.extraFields));
        extraRunFields = Collections.unmodifiableSortedMap(new TreeMap<>(b.extraRunFields));
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.architecture = architecture;
        b.os = os;
        b.variant = variant;
        b.created = created;
        b.author = author;
        b.user = user;
        b.env = new ArrayList<>(env);
        b.entrypoint = entrypoint;
        b.cmd = cmd;
        b.workingDir = workingDir;
        b.exposedPorts = new TreeSet<>(exposedPorts);
        b.volumes = new TreeSet<>(volumes);
        b.labels = new TreeMap<>(labels);
        b.stopSignal = stopSignal;
        b.healthcheck = healthcheck;
        b.onBuild = new ArrayList<>(onBuild);
        b.shell = shell;
        b.rootfsType = rootfsType;
        b.diffIds = new ArrayList<>(diffIds);
        b.history = new ArrayList<>(history);
        b.extraFields = new TreeMap<>(extraFields);
        b.extraRunFields = new TreeMap<>(extraRunFields);
        return b;
    }

    /** This config plus one layer on top and the history line that made it. */
    public ImageConfig withLayer(Digest diffId, HistoryEntry step) {
        Builder b = toBuilder();
        b.diffIds.add(diffId);
        b.history.add(new HistoryEntry(step.created(), step.createdBy(), step.author(), step.comment(), false));
        return b.build();
    }

    /** This config plus a history line for a step that changed only metadata (ENV, CMD, …). */
    public ImageConfig withEmptyLayerHistory(HistoryEntry step) {
        Builder b = toBuilder();
        b.history.add(new HistoryEntry(step.created(), step.createdBy(), step.author(), step.comment(), true));
        return b.build();
    }

    public ImageConfig withEnv(List<String> newEnv) {
        return toBuilder().env(newEnv).build();
    }

    public ImageConfig withCmd(List<String> newCmd) {
        return toBuilder().cmd(newCmd).build();
    }

    public ImageConfig withEntrypoint(List<String> newEntrypoint) {
        return toBuilder().entrypoint(newEntrypoint).build();
    }

    public ImageConfig withWorkingDir(String dir) {
        return toBuilder().workingDir(dir).build();
    }

    public ImageConfig withUser(String newUser) {
        return toBuilder().user(newUser).build();
    }

    public ImageConfig withLabels(Map<String, String> newLabels) {
        return toBuilder().labels(newLabels).build();
    }

    public ImageConfig withCreated(Instant when) {
        return toBuilder().created(when).build();
    }

    public String architecture() {
        return architecture;
    }

    public String os() {
        return os;
    }

    public String variant() {
        return variant;
    }

    public Instant created() {
        return created;
    }

    public String author() {
        return author;
    }

    public String user() {
        return user;
    }

    public List<String> env() {
        return env;
    }

    public List<String> entrypoint() {
        return entrypoint;
    }

    public List<String> cmd() {
        return cmd;
    }

    public String workingDir() {
        return workingDir;
    }

    public SortedSet<String> exposedPorts() {
        return exposedPorts;
    }

    public SortedSet<String> volumes() {
        return volumes;
    }

    public SortedMap<String, String> labels() {
        return labels;
    }

    public String stopSignal() {
        return stopSignal;
    }

    public Healthcheck healthcheck() {
        return healthcheck;
    }

    public List<String> onBuild() {
        return onBuild;
    }

    public List<String> shell() {
        return shell;
    }

    public String rootfsType() {
        return rootfsType;
    }

    public List<Digest> diffIds() {
        return diffIds;
    }

    public List<HistoryEntry> history() {
        return history;
    }
    /** Unknown top-level fields: name → raw JSON value. */
    public SortedMap<String, String> extraFields() {
        return extraFields;
    }
    /** Unknown fields of the {@code config} object: name → raw JSON value. */
    public SortedMap<String, String> extraRunFields() {
        return extraRunFields;
    }

    public Platform platform() {
        return new Platform(os, architecture, variant);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageConfig c && fields().equals(c.fields());
    }

    @Override
    public int hashCode() {
        return fields().hashCode();
    }

    @Override
    public String toString() {
        return "ImageConfig" + fields();
    }

    private List<Object> fields() {
        return Arrays.asList(
                architecture,
                os,
                variant,
                created,
                author,
                user,
                env,
                entrypoint,
                cmd,
                workingDir,
                exposedPorts,
                volumes,
                labels,
                stopSignal,
                healthcheck,
                onBuild,
                shell,
                rootfsType,
                diffIds,
                history,
                extraFields,
                extraRunFields);
    }

    /** Mutable builder; {@link #build()} copies, so a builder can be reused. */
    public static final class Builder {
        private String architecture = "amd64";
        private String os = "linux";
        private String variant;
        private Instant created;
        private String author;
        private String user;
        private List<String> env = new ArrayList<>();
        private List<String> entrypoint;
        private List<String> cmd;
        private String workingDir;
        private SortedSet<String> exposedPorts = new TreeSet<>();
        private SortedSet<String> volumes = new TreeSet<>();
        private SortedMap<String, String> labels = new TreeMap<>();
        private String stopSignal;
        private Healthcheck healthcheck;
        private List<String> onBuild = new ArrayList<>();
        private List<String> shell;
        private String rootfsType = "layers";
        private List<Digest> diffIds = new ArrayList<>();
        private List<HistoryEntry> history = new ArrayList<>();
        private SortedMap<String, String> extraFields = new TreeMap<>();
        private SortedMap<String, String> extraRunFields = new TreeMap<>();

        private Builder() {}

        public Builder architecture(String v) {
            architecture = v;
            return this;
        }

        public Builder os(String v) {
            os = v;
            return this;
        }

        public Builder variant(String v) {
            variant = v;
            return this;
        }

        public Builder created(Instant v) {
            created = v;
            return this;
        }

        public Builder author(String v) {
            author = v;
            return this;
        }

        public Builder user(String v) {
            user = v;
            return this;
        }

        public Builder env(List<String> v) {
            env = new ArrayList<>(v);
            return this;
        }

        public Builder entrypoint(List<String> v) {
            entrypoint = v;
            return this;
        }

        public Builder cmd(List<String> v) {
            cmd = v;
            return this;
        }

        public Builder workingDir(String v) {
            workingDir = v;
            return this;
        }

        public Builder exposedPorts(Collection<String> v) {
            exposedPorts = new TreeSet<>(v);
            return this;
        }

        public Builder volumes(Collection<String> v) {
            volumes = new TreeSet<>(v);
            return this;
        }

        public Builder labels(Map<String, String> v) {
            labels = new TreeMap<>(v);
            return this;
        }

        public Builder stopSignal(String v) {
            stopSignal = v;
            return this;
        }

        public Builder healthcheck(Healthcheck v) {
            healthcheck = v;
            return this;
        }

        public Builder onBuild(List<String> v) {
            onBuild = new ArrayList<>(v);
            return this;
        }

        public Builder shell(List<String> v) {
            shell = v;
            return this;
        }

        public Builder rootfsType(String v) {
            rootfsType = v;
            return this;
        }

        public Builder diffIds(List<Digest> v) {
            diffIds = new ArrayList<>(v);
            return this;
        }

        public Builder history(List<HistoryEntry> v) {
            history = new ArrayList<>(v);
            return this;
        }

        public Builder extraFields(Map<String, String> v) {
            extraFields = new TreeMap<>(v);
            return this;
        }

        public Builder extraRunFields(Map<String, String> v) {
            extraRunFields = new TreeMap<>(v);
            return this;
        }

        public ImageConfig build() {
            return new ImageConfig(this);
        }
    }
}
