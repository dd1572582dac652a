package dev.stagefarm.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Validation of custom resources against the structural OpenAPI v3 schema of their CRD, the way
 * the API server treats them: a field the schema does not declare is an error (the server would
 * prune it silently, so a misspelt field would do nothing), unless the schema preserves unknown
 * fields there. Checks types, required fields, enums, patterns and int-or-string; CEL rules
 * ({@code x-kubernetes-validations}) are not evaluated. The CRDs are data kept in
 * src/test/resources/crds (see the README there for where each comes from).
 */
public final class CrdSchema {

    private final Map<String, JsonNode> schemas = new HashMap<>();

    /** Loads the CRDs from the named classpath resources. */
    public static CrdSchema load(String... resources) throws IOException {
        CrdSchema crds = new CrdSchema();
        for (String resource : resources) {
            try (InputStream in = CrdSchema.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IOException("no CRD resource " + resource);
                }
                for (JsonNode crd : Kustomize.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8))) {
                    String group = crd.path("spec").path("group").asText();
                    String kind = crd.path("spec").path("names").path("kind").asText();
                    for (JsonNode version : crd.path("spec").path("versions")) {
                        if (version.path("served").asBoolean()) {
                            crds.schemas.put(
                                    group + "/" + version.path("name").asText() + "/" + kind,
                                    version.path("schema").path("openAPIV3Schema"));
                        }
                    }
                }
            }
        }
        return crds;
    }

    public boolean knows(JsonNode object) {
        return schemas.containsKey(key(object));
    }

    /** The problems found in {@code object}, one sentence each; empty when it is valid. */
    public List<String> problems(JsonNode object) {
        JsonNode schema = schemas.get(key(object));
        if (schema == null) {
            return List.of(Kustomize.describe(object) + ": no CRD schema for " + key(object));
        }
        List<String> problems = new ArrayList<>();
        check(object, schema, "", problems, true);
        return problems.stream().map(p -> Kustomize.describe(object) + ": " + p).toList();
    }

    private static String key(JsonNode object) {
        return object.path("apiVersion").asText() + "/" + object.path("kind").asText();
    }

    private void check(JsonNode value, JsonNode schema, String path, List<String> problems, boolean root) {
        String at = path.isEmpty() ? "the object" : path.substring(1);
        if (schema.path("x-kubernetes-int-or-string").asBoolean()) {
            if (!value.isIntegralNumber() && !value.isTextual()) {
                problems.add(at + " must be an integer or a string");
            }
            return;
        }
        if (schema.has("anyOf") && !schema.has("type")) {
            return; // only int-or-string style unions appear in these CRDs, handled above
        }
        String type = schema.path("type").asText("");
        switch (type) {
            case "object" -> {
                if (!value.isObject()) {
                    problems.add(at + " must be an object");
                    return;
                }
                for (JsonNode required : schema.path("required")) {
                    if (!value.has(required.asText())) {
                        problems.add(at + " lacks required field " + required.asText());
                    }
                }
                JsonNode properties = schema.path("properties");
                JsonNode additional = schema.get("additionalProperties");
                boolean preserve =
                        schema.path("x-kubernetes-preserve-unknown-fields").asBoolean();
                for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    String name = field.getKey();
                    // metadata is the API server's ObjectMeta, not part of the CRD schema
                    if (root && (name.equals("apiVersion") || name.equals("kind") || name.equals("metadata"))) {
                        continue;
                    }
                    if (properties.has(name)) {
                        check(field.getValue(), properties.get(name), path + "." + name, problems, false);
                    } else if (additional != null && additional.isObject()) {
                        check(field.getValue(), additional, path + "." + name, problems, false);
                    } else if (!preserve && !(additional != null && additional.asBoolean())) {
                        problems.add("unknown field " + (path + "." + name).substring(1));
                    }
                }
            }
            case "array" -> {
                if (!value.isArray()) {
                    problems.add(at + " must be a list");
                    return;
                }
                int i = 0;
                for (JsonNode item : value) {
                    check(item, schema.path("items"), path + "[" + i++ + "]", problems, false);
                }
            }
            case "string" -> {
                if (!value.isTextual()) {
                    problems.add(at + " must be a string, not " + value);
                } else if (schema.has("pattern")
                        && !Pattern.compile(schema.get("pattern").asText())
                                .matcher(value.asText())
                                .find()) {
                    problems.add(at + " '" + value.asText() + "' does not match "
                            + schema.get("pattern").asText());
                }
            }
            case "integer" -> {
                if (!value.isIntegralNumber()) {
                    problems.add(at + " must be an integer, not " + value);
                }
            }
            case "number" -> {
                if (!value.isNumber()) {
                    problems.add(at + " must be a number, not " + value);
                }
            }
            case "boolean" -> {
                if (!value.isBoolean()) {
                    problems.add(at + " must be true or false, not " + value);
                }
            }
            default -> {
                if (!schema.path("x-kubernetes-preserve-unknown-fields").asBoolean() && !type.isEmpty()) {
                    problems.add(at + ": schema type " + type + " is not checked here");
                }
            }
        }
        if (schema.has("enum")) {
            boolean listed = false;
            for (JsonNode allowed : schema.get("enum")) {
                listed |= allowed.equals(value);
            }
            if (!listed) {
                problems.add(at + " '" + value.asText() + "' is not one of " + schema.get("enum"));
            }
        }
    }
}
