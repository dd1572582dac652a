package dev.stagefarm.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The autoscaler's rule as the manifests write it, once: the KEDA ScaledObject of the rendered
 * {@code prod} overlay, whose Prometheus query (queued + running jobs) over its threshold (the
 * workers' slots, put there by a Kustomize replacement) an HPA turns into replicas with
 * {@code metricType: AverageValue}: {@code ceil(value / threshold)}. Nothing of the formula is
 * written here: the query is evaluated as Prometheus would on the coordinator's scrape, so a
 * change of the ScaledObject changes what the scale test does.
 */
final class ScalingRule {

    private static final Pattern TOKEN = Pattern.compile("\\s*([A-Za-z_:][A-Za-z0-9_:]*|[0-9.]+|[()+])");

    private final String query;
    private final double threshold;

    private ScalingRule(String query, double threshold) {
        this.query = query;
        this.threshold = threshold;
    }

    /** The rule of the ScaledObject in {@code overlays/prod}, as {@code kubectl kustomize} renders it. */
    static ScalingRule fromProdOverlay() throws IOException, InterruptedException {
        List<JsonNode> prod = Kustomize.render(Kustomize.k8sDir().resolve("overlays/prod"));
        JsonNode trigger = ManifestsTest.find(prod, "ScaledObject", "stagefarm-worker")
                .path("spec")
                .path("triggers")
                .get(0);
        if (!trigger.path("type").asText().equals("prometheus")
                || !trigger.path("metricType").asText().equals("AverageValue")) {
            throw new IllegalStateException("the ScaledObject's trigger is no longer a Prometheus one with"
                    + " metricType AverageValue: teach ScalingRule the new rule");
        }
        return new ScalingRule(
                trigger.path("metadata").path("query").asText(),
                Double.parseDouble(trigger.path("metadata").path("threshold").asText()));
    }

    /** The threshold: the slots per worker the rule assumes (the workers here run with as many). */
    int slotsPerWorker() {
        return (int) threshold;
    }

    /** The replicas the autoscaler asks for given the coordinator's {@code /metrics} text. */
    int desired(String scrape) {
        double value = new Evaluation(tokens(query), scrape).all().orElse(0);
        return (int) Math.ceil(value / threshold);
    }

    private static List<String> tokens(String query) {
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(query);
        int at = 0;
        while (at < query.length() && m.find(at) && m.start() == at) {
            tokens.add(m.group(1));
            at = m.end();
        }
        if (!query.substring(at).isBlank()) {
            throw new IllegalStateException("the ScaledObject's query has "
                    + query.substring(at).strip() + ", which ScalingRule cannot evaluate: teach it");
        }
        return tokens;
    }

    /**
     * PromQL for single-valued expressions: {@code sum(metric)}, {@code vector(n)}, {@code +} and
     * {@code or} (which binds looser), parentheses. Empty means an empty vector, as {@code sum} of
     * a metric no series has yet.
     */
    private static final class Evaluation {
        private final List<String> tokens;
        private final String scrape;
        private int next;

        Evaluation(List<String> tokens, String scrape) {
            this.tokens = tokens;
            this.scrape = scrape;
        }

        OptionalDouble all() {
            OptionalDouble value = or();
            if (next != tokens.size()) {
                throw new IllegalStateException("cannot evaluate the query from " + tokens.get(next));
            }
            return value;
        }

        private OptionalDouble or() {
            OptionalDouble left = sum();
            while (peek("or")) {
                next++;
                OptionalDouble right = sum();
                left = left.isPresent() ? left : right;
            }
            return left;
        }

        private OptionalDouble sum() {
            OptionalDouble left = primary();
            while (peek("+")) {
                next++;
                OptionalDouble right = primary();
                left = left.isPresent() && right.isPresent()
                        ? OptionalDouble.of(left.getAsDouble() + right.getAsDouble())
                        : OptionalDouble.empty();
            }
            return left;
        }

        private OptionalDouble primary() {
            String t = tokens.get(next++);
            switch (t) {
                case "(" -> {
                    OptionalDouble inner = or();
                    expect(")");
                    return inner;
                }
                case "sum" -> {
                    expect("(");
                    String metric = tokens.get(next++);
                    expect(")");
                    return series(metric);
                }
                case "vector" -> {
                    expect("(");
                    double n = Double.parseDouble(tokens.get(next++));
                    expect(")");
                    return OptionalDouble.of(n);
                }
                default ->
                    throw new IllegalStateException(
                            "the ScaledObject's query uses " + t + ", which ScalingRule cannot evaluate: teach it");
            }
        }

        /** The sum of every series of {@code metric} in the scrape; empty when it has none. */
        private OptionalDouble series(String metric) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(metric) + "(\\{[^}]*\\})? (\\S+)$")
                    .matcher(scrape);
            double total = 0;
            boolean any = false;
            while (m.find()) {
                total += Double.parseDouble(m.group(2));
                any = true;
            }
            return any ? OptionalDouble.of(total) : OptionalDouble.empty();
        }

        private boolean peek(String token) {
            return next < tokens.size() && tokens.get(next).equals(token);
        }

        private void expect(String token) {
            if (!peek(token)) {
                throw new IllegalStateException("expected " + token + " in the ScaledObject's query");
            }
            next++;
        }
    }
}
