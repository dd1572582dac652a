package dev.stagefarm.oci.json;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Wire form of an image config (OCI image spec config.md, Docker's image JSON); unknown fields kept. */
@JsonPropertyOrder({"architecture", "os", "variant", "created", "author", "config", "rootfs", "history"})
final class ConfigTemplate {
    public String architecture;
    public String os;
    public String variant;
    public String created;
    public String author;
    public RunConfig config;
    public Rootfs rootfs;
    public List<History> history;

    @JsonIgnore
    final SortedMap<String, JsonNode> extra = new TreeMap<>();

    @JsonAnySetter
    void setExtra(String name, JsonNode value) {
        extra.put(name, value);
    }

    @JsonAnyGetter
    Map<String, JsonNode> getExtra() {
        return extra;
    }

    @JsonPropertyOrder({
        "User",
        "ExposedPorts",
        "Env",
        "Entrypoint",
        "Cmd",
        "Volumes",
        "WorkingDir",
        "Labels",
        "OnBuild",
        "StopSignal",
        "Healthcheck",
        "Shell"
    })
    static final class RunConfig {
        @JsonProperty("User")
        public String user;

        @JsonProperty("ExposedPorts")
        public Map<String, Map<String, Object>> exposedPorts;

        @JsonProperty("Env")
        public List<String> env;

        @JsonProperty("Entrypoint")
        public List<String> entrypoint;

        @JsonProperty("Cmd")
        public List<String> cmd;

        @JsonProperty("Volumes")
        public Map<String, Map<String, Object>> volumes;

        @JsonProperty("WorkingDir")
        public String workingDir;

        @JsonProperty("Labels")
        public Map<String, String> labels;

        @JsonProperty("OnBuild")
        public List<String> onBuild;

        @JsonProperty("StopSignal")
        public String stopSignal;

        @JsonProperty("Healthcheck")
        public HealthConfig healthcheck;

        @JsonProperty("Shell")
        public List<String> shell;

        @JsonIgnore
        final SortedMap<String, JsonNode> extra = new TreeMap<>();

        @JsonAnySetter
        void setExtra(String name, JsonNode value) {
            extra.put(name, value);
        }

        @JsonAnyGetter
        Map<String, JsonNode> getExtra() {
            return extra;
        }
    }

    /** Durations are nanoseconds, as Go's time.Duration marshals them. */
    @JsonPropertyOrder({"Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"})
    static final class HealthConfig {
        @JsonProperty("Test")
        public List<String> test;

        @JsonProperty("Interval")
        public Long interval;

        @JsonProperty("Timeout")
        public Long timeout;

        @JsonProperty("StartPeriod")
        public Long startPeriod;

        @JsonProperty("StartInterval")
        public Long startInterval;

        @JsonProperty("Retries")
        public Integer retries;
    }

    @JsonPropertyOrder({"type", "diff_ids"})
    static final class Rootfs {
        public String type;

        @JsonProperty("diff_ids")
        public List<String> diffIds;
    }

    @JsonPropertyOrder({"created", "created_by", "author", "comment", "empty_layer"})
    static final class History {
        public String created;

        @JsonProperty("created_by")
        public String createdBy;

        public String author;
        public String comment;

        @JsonProperty("empty_layer")
        public Boolean emptyLayer;
    }
}
