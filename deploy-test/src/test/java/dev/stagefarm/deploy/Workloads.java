package dev.stagefarm.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The containers of a rendered overlay, with their args as the kubelet hands them to the entrypoint. */
public final class Workloads {

    private static final Pattern VAR = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    /** One container: where it is, and its args with every $(VAR) expanded. */
    public record Container(String owner, JsonNode spec, JsonNode pod, List<String> args, Map<String, String> env) {}

    private Workloads() {}

    public static List<Container> containers(List<JsonNode> objects) {
        List<Container> containers = new ArrayList<>();
        for (JsonNode o : objects) {
            String kind = o.path("kind").asText();
            if (!kind.equals("Deployment") && !kind.equals("StatefulSet")) {
                continue;
            }
            JsonNode pod = o.path("spec").path("template").path("spec");
            String namespace = o.path("metadata").path("namespace").asText();
            for (JsonNode c : pod.path("containers")) {
                Map<String, String> env = env(objects, namespace, c);
                List<String> args = new ArrayList<>();
                c.path("args").forEach(a -> args.add(expand(a.asText(), env, Kustomize.describe(o))));
                containers.add(new Container(
                        Kustomize.describe(o) + " container " + c.path("name").asText(), c, pod, args, env));
            }
        }
        return containers;
    }

    /** The container's env: literal values, ConfigMap keys from the rendered ConfigMaps, field refs. */
    private static Map<String, String> env(List<JsonNode> objects, String namespace, JsonNode container) {
        Map<String, String> env = new HashMap<>();
        for (JsonNode e : container.path("env")) {
            String name = e.path("name").asText();
            if (e.has("value")) {
                env.put(name, e.get("value").asText());
            } else if (e.path("valueFrom").has("configMapKeyRef")) {
                JsonNode ref = e.path("valueFrom").path("configMapKeyRef");
                JsonNode data = configMap(objects, namespace, ref.path("name").asText());
                if (data == null || !data.has(ref.path("key").asText())) {
                    throw new AssertionError("env " + name + " names ConfigMap " + namespace + "/"
                            + ref.path("name").asText() + " key "
                            + ref.path("key").asText()
                            + ", which the overlay does not render");
                }
                env.put(name, data.get(ref.path("key").asText()).asText());
            } else if (e.path("valueFrom").has("fieldRef")) {
                // what the kubelet substitutes, e.g. metadata.name -> the pod's name
                env.put(
                        name,
                        "pod-"
                                + e.path("valueFrom")
                                        .path("fieldRef")
                                        .path("fieldPath")
                                        .asText()
                                        .replace('.', '-'));
            }
        }
        return env;
    }

    private static JsonNode configMap(List<JsonNode> objects, String namespace, String name) {
        return objects.stream()
                .filter(o -> o.path("kind").asText().equals("ConfigMap")
                        && o.path("metadata").path("namespace").asText().equals(namespace)
                        && o.path("metadata").path("name").asText().equals(name))
                .map(o -> o.path("data"))
                .findFirst()
                .orElse(null);
    }

    /**
     * Kubernetes' expansion of $(VAR) in args. An undefined variable stays literally in the
     * argument there; here it fails, since a stagefarm flag would then get the text "$(VAR)".
     */
    static String expand(String arg, Map<String, String> env, String where) {
        Matcher m = VAR.matcher(arg);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.get(m.group(1));
            if (value == null) {
                throw new AssertionError(where + ": argument " + arg + " uses $(" + m.group(1)
                        + "), which the container's env does not define");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }
}
