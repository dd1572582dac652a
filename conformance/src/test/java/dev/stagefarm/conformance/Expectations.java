package dev.stagefarm.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Checks one built image against its case's {@code expect.json}. Every check runs and every
 * mismatch is reported, so a failing case shows all of what is wrong at once.
 */
final class Expectations {

    private final ConformanceCase c;
    private final List<String> problems = new ArrayList<>();

    private Expectations(ConformanceCase c) {
        this.c = c;
    }

    /** The mismatches between a successful build and the case's checks; empty when it conforms. */
    static List<String> check(ConformanceCase c, BuiltImage image, FileTree tree) {
        Expectations e = new Expectations(c);
        e.files(tree);
        e.dirs(tree);
        e.config(image.config());
        e.env(image.config());
        e.history(image.history());
        if (c.spec().has("created")) {
            e.expect("image", "created", c.spec().get("created").asText(), image.created());
        }
        return e.problems;
    }

    /** The mismatches between a failed build's output and what the case says it must report. */
    static List<String> checkFailure(ConformanceCase c, Processes.Result result) {
        List<String> problems = new ArrayList<>();
        JsonNode fails = c.spec().path("fails");
        if (fails.has("message")
                && !Pattern.compile(fails.get("message").asText())
                        .matcher(result.output())
                        .find()) {
            problems.add("the error does not match /" + fails.get("message").asText() + "/");
        }
        if (fails.has("line")) {
            String where = c.dockerfile() + ":" + fails.get("line").asInt();
            if (!result.output().contains(where)) {
                problems.add("the error does not name the Dockerfile line (" + where + ")");
            }
        }
        return problems;
    }

    private void files(FileTree tree) {
        for (Map.Entry<String, JsonNode> e : c.spec().path("files").properties()) {
            String path = e.getKey();
            JsonNode want = e.getValue();
            FileTree.Node node = tree.get(path);
            if (want.path("absent").asBoolean(false)) {
                if (node != null) {
                    problems.add(path + ": should not exist, is a " + node.type());
                }
                continue;
            }
            if (node == null) {
                problems.add(path + ": missing");
                continue;
            }
            if (want.has("type")) {
                expect(
                        path,
                        "type",
                        want.get("type").asText(),
                        node.type().name().toLowerCase(Locale.ROOT));
            }
            if (want.has("content")) {
                expect(path, "content", FileTree.Type.FILE.name(), node.type().name());
                if (node.type() == FileTree.Type.FILE) {
                    String text = readQuietly(tree, path);
                    expect(path, "content", want.get("content").asText(), text);
                }
            }
            if (want.has("sha256")) {
                expect(path, "sha256", want.get("sha256").asText(), node.sha256());
            }
            if (want.has("size")) {
                expect(path, "size", want.get("size").asLong(), node.size());
            }
            if (want.has("mode")) {
                expect(path, "mode", want.get("mode").asText(), String.format("%04o", node.mode()));
            }
            if (want.has("uid")) {
                expect(path, "uid", want.get("uid").asInt(), node.uid());
            }
            if (want.has("gid")) {
                expect(path, "gid", want.get("gid").asInt(), node.gid());
            }
            if (want.has("target")) {
                expect(path, "symlink target", want.get("target").asText(), node.linkTarget());
            }
            if (want.has("hardlink")) {
                String other = want.get("hardlink").asText();
                if (!node.hardlinks().contains(other)) {
                    problems.add(
                            path + ": should be hard-linked with " + other + ", is linked with " + node.hardlinks());
                }
            }
            if (want.has("mtime")) {
                expect(path, "mtime", want.get("mtime").asLong(), node.mtimeSeconds());
            }
            if (want.has("children")) {
                expect(
                        path,
                        "number of children",
                        want.get("children").asInt(),
                        tree.children(path).size());
            }
        }
    }

    private void dirs(FileTree tree) {
        for (Map.Entry<String, JsonNode> e : c.spec().path("dirs").properties()) {
            List<String> want = new ArrayList<>();
            e.getValue().forEach(n -> want.add(n.asText()));
            FileTree.Node node = tree.get(e.getKey());
            boolean root = e.getKey().equals("/");
            if (!root && (node == null || node.type() != FileTree.Type.DIR)) {
                problems.add(e.getKey() + ": should be a directory, is " + (node == null ? "missing" : node.type()));
                continue;
            }
            expect(e.getKey(), "children", want.stream().sorted().toList(), tree.children(e.getKey()));
        }
    }

    private void config(JsonNode config) {
        for (Map.Entry<String, JsonNode> e : c.spec().path("config").properties()) {
            JsonNode got = ConfigFields.normalize(e.getKey(), config.get(e.getKey()));
            JsonNode want = ConfigFields.normalize(e.getKey(), e.getValue());
            if (!want.equals(got)) {
                problems.add("config " + e.getKey() + ": expected " + want + ", got " + got);
            }
        }
    }

    private void env(JsonNode config) {
        Map<String, String> env = ConfigFields.env(config);
        for (Map.Entry<String, JsonNode> e : c.spec().path("env").properties()) {
            if (e.getValue().isNull()) {
                if (env.containsKey(e.getKey())) {
                    problems.add("Env " + e.getKey() + ": should be unset, is \"" + env.get(e.getKey()) + "\"");
                }
            } else {
                expect("Env", e.getKey(), e.getValue().asText(), env.get(e.getKey()));
            }
        }
    }

    /** The case's history entries must be the image's last ones, in order. */
    private void history(JsonNode history) {
        JsonNode want = c.spec().path("history");
        if (want.isMissingNode()) {
            return;
        }
        int offset = history.size() - want.size();
        if (offset < 0) {
            problems.add("history: expected at least " + want.size() + " entries, got " + history.size());
            return;
        }
        for (int i = 0; i < want.size(); i++) {
            JsonNode w = want.get(i);
            JsonNode got = history.get(offset + i);
            String createdBy = got.path("created_by").asText("");
            if (w.has("created_by")
                    && !Pattern.compile(w.get("created_by").asText())
                            .matcher(createdBy)
                            .find()) {
                problems.add("history[" + (offset + i) + "].created_by: \"" + createdBy + "\" does not match /"
                        + w.get("created_by").asText() + "/");
            }
            if (w.has("created")) {
                expect(
                        "history[" + (offset + i) + "] " + createdBy,
                        "created",
                        w.get("created").asText(),
                        got.path("created").asText(""));
            }
            if (w.has("empty_layer")) {
                expect(
                        "history[" + (offset + i) + "] " + createdBy,
                        "empty_layer",
                        w.get("empty_layer").asBoolean(),
                        got.path("empty_layer").asBoolean(false));
            }
        }
    }

    private void expect(String where, String what, Object want, Object got) {
        if (!Objects.equals(want, got)) {
            problems.add(where + ": " + what + " expected " + show(want) + ", got " + show(got));
        }
    }

    private static String show(Object o) {
        return o instanceof String s ? "\"" + s.replace("\n", "\\n") + "\"" : String.valueOf(o);
    }

    private static String readQuietly(FileTree tree, String path) {
        try {
            return Files.readString(tree.root().resolve(path.substring(1)));
        } catch (IOException e) {
            return "<unreadable: " + e.getMessage() + ">";
        }
    }
}
