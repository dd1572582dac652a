package dev.stagefarm.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The image config fields the suite checks and compares, and what counts as the same value. */
final class ConfigFields {

    /** The fields of the image config ({@code config} object) both builders must agree on. */
    static final List<String> COMPARED = List.of(
            "Env",
            "Cmd",
            "Entrypoint",
            "WorkingDir",
            "User",
            "ExposedPorts",
            "Volumes",
            "Labels",
            "StopSignal",
            "Healthcheck",
            "Shell",
            "OnBuild");

    private ConfigFields() {}

    /**
     * One value in a comparable form: absent, null, "", [] and {} are all "not set"; a
     * Healthcheck's zero durations mean "inherit" and are dropped; WorkingDir "" is "/", which
     * is what a runtime uses for it.
     */
    static JsonNode normalize(String field, JsonNode value) {
        if (value == null
                || value.isMissingNode()
                || value.isNull()
                || value.isEmpty() && !value.isValueNode()
                || value.isTextual() && value.asText().isEmpty()) {
            return field.equals("WorkingDir")
                    ? ConformanceCase.JSON.getNodeFactory().textNode("/")
                    : NullNode.getInstance();
        }
        if (field.equals("Healthcheck") && value.isObject()) {
            ObjectNode copy = ((ObjectNode) value).deepCopy();
            List<String> zero = new ArrayList<>();
            copy.properties().forEach(e -> {
                if (e.getValue().isNull()
                        || e.getValue().isNumber() && e.getValue().asLong() == 0) {
                    zero.add(e.getKey());
                }
            });
            copy.remove(zero);
            return copy;
        }
        return value;
    }

    /** The config's Env as a map, in order. */
    static Map<String, String> env(JsonNode config) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode kv : config.path("Env")) {
            String s = kv.asText();
            int eq = s.indexOf('=');
            env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
        }
        return env;
    }

    /**
     * Differences in history: the same number of entries with the same created_by, in order.
     * Times, authors and comments are not compared; empty_layer is not either, because
     * {@code docker history} does not show it.
     */
    static List<String> compareHistory(JsonNode stagefarm, JsonNode buildkit) {
        List<String> ours = new ArrayList<>();
        stagefarm.forEach(h -> ours.add(h.path("created_by").asText("")));
        List<String> theirs = new ArrayList<>();
        buildkit.forEach(h -> theirs.add(h.path("created_by").asText("")));
        if (ours.equals(theirs)) {
            return List.of();
        }
        List<String> diffs = new ArrayList<>();
        int common = 0;
        while (common < Math.min(ours.size(), theirs.size()) && ours.get(common).equals(theirs.get(common))) {
            common++;
        }
        diffs.add("history differs from entry " + common + ": stagefarm " + ours.subList(common, ours.size())
                + ", BuildKit " + theirs.subList(common, theirs.size()));
        return diffs;
    }

    /** Field-by-field differences between two configs, one line each. */
    static List<String> compare(JsonNode stagefarm, JsonNode buildkit) {
        List<String> diffs = new ArrayList<>();
        for (String field : COMPARED) {
            JsonNode ours = normalize(field, stagefarm.get(field));
            JsonNode theirs = normalize(field, buildkit.get(field));
            if (!ours.equals(theirs)) {
                diffs.add("config " + field + ": stagefarm " + ours + ", BuildKit " + theirs);
            }
        }
        return diffs;
    }
}
