package dev.stagefarm.cli.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --secret id=ID,src=PATH} or {@code --secret id=ID,env=VAR}, as buildx spells them. */
public final class SecretSpec {

    private SecretSpec() {}

    /** Reads every secret's value now, so a missing file is an error before anything runs. */
    public static Map<String, byte[]> readAll(List<String> specs) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String spec : specs) {
            String id = null;
            String src = null;
            String env = null;
            for (String part : spec.split(",")) {
                int eq = part.indexOf('=');
                String key = eq < 0 ? part : part.substring(0, eq);
                String value = eq < 0 ? "" : part.substring(eq + 1);
                switch (key) {
                    case "id" -> id = value;
                    case "src", "source" -> src = value;
                    case "env" -> env = value;
                    case "type" -> {
                        if (!value.equals("file") && !value.equals("env")) {
                            throw new IllegalArgumentException("--secret " + spec + ": type must be file or env");
                        }
                    }
                    default ->
                        throw new IllegalArgumentException(
                                "--secret " + spec + ": unknown key \"" + key + "\" (expected id=, src= or env=)");
                }
            }
            if (id == null || id.isEmpty()) {
                throw new IllegalArgumentException("--secret " + spec + ": id= is required");
            }
            if (src != null) {
                out.put(id, Files.readAllBytes(Path.of(src)));
            } else {
                // buildx: without src or env, the value comes from the environment variable named id
                String name = env != null ? env : id;
                String value = System.getenv(name);
                if (value == null) {
                    throw new IllegalArgumentException(
                            "--secret " + spec + ": environment variable " + name + " is not set");
                }
                out.put(id, value.getBytes(StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
