package dev.stagefarm.cli.build;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** One {@code --output} as buildx spells it: {@code type=docker,dest=PATH}, {@code type=oci,dest=PATH}, {@code type=image,name=REF,push=true}. */
public record OutputSpec(Type type, Optional<Path> dest, Optional<String> name, boolean push) {

    public enum Type {
        DOCKER,
        OCI,
        IMAGE
    }

    public static OutputSpec parse(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                if (fields.isEmpty() && !part.isBlank()) {
                    // buildx's shorthand "-o DIR" means a local export; we only take the explicit forms
                    throw new IllegalArgumentException(
                            "--output " + text + ": expected key=value pairs such as type=docker,dest=image.tar");
                }
                continue;
            }
            fields.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
        }
        String type = fields.getOrDefault("type", "");
        Optional<Path> dest = Optional.ofNullable(fields.get("dest")).map(Path::of);
        Optional<String> name = Optional.ofNullable(fields.get("name"));
        boolean push = Boolean.parseBoolean(fields.getOrDefault("push", "false"));
        return switch (type) {
            case "docker" -> new OutputSpec(Type.DOCKER, require(dest, text), name, false);
            case "oci" -> new OutputSpec(Type.OCI, require(dest, text), name, false);
            case "image", "registry" -> {
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("--output " + text + ": type=image needs name=REF");
                }
                yield new OutputSpec(Type.IMAGE, Optional.empty(), name, push || type.equals("registry"));
            }
            default ->
                throw new IllegalArgumentException(
                        "--output " + text + ": unknown type \"" + type + "\" (supported: docker, oci, image)");
        };
    }

    private static Optional<Path> require(Optional<Path> dest, String text) {
        if (dest.isEmpty()) {
            throw new IllegalArgumentException("--output " + text + ": this type needs dest=PATH");
        }
        return dest;
    }
}
