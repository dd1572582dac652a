package dev.stagefarm.cli.build;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code --output} as buildx spells it: {@code type=docker[,dest=PATH]} (without dest: load into
 * the Docker engine), {@code type=oci,dest=PATH}, {@code type=image,name=REF,push=true},
 * {@code type=local,dest=DIR} (the final filesystem), {@code type=tar,dest=FILE} (the same as a tar).
 */
public record OutputSpec(Type type, Optional<Path> dest, Optional<String> name, boolean push) {

    public enum Type {
        DOCKER,
        OCI,
        IMAGE,
        LOCAL,
        TAR
    }

    /** A docker output without a destination: the image goes into the Docker engine. */
    public boolean load() {
        return type == Type.DOCKER && dest.isEmpty();
    }

    public static OutputSpec parse(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                if (fields.isEmpty() && !part.isBlank()) {
                    // buildx's shorthand "-o DIR" means a local export; we only take the explicit forms
                    throw new IllegalArgumentException(
                            "--output " + text + ": expected key=value pairs such as type=local,dest=" + part.strip());
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
            case "docker" -> new OutputSpec(Type.DOCKER, dest, name, false);
            case "oci" -> new OutputSpec(Type.OCI, require(dest, text), name, false);
            case "local" -> new OutputSpec(Type.LOCAL, require(dest, text), Optional.empty(), false);
            case "tar" -> new OutputSpec(Type.TAR, require(dest, text), Optional.empty(), false);
            case "image", "registry" ->
                new OutputSpec(Type.IMAGE, Optional.empty(), name, push || type.equals("registry"));
            default ->
                throw new IllegalArgumentException("--output " + text + ": unknown type \"" + type
                        + "\" (supported: docker, oci, image, registry, local, tar)");
        };
    }

    /**
     * Every {@code --output}, with buildx's shorthands applied: {@code --push} pushes an image
     * output (adding one when there is none), {@code --load} adds a docker output loaded into the
     * engine. An image output without {@code name=} takes the {@code -t} names, as in buildx.
     */
    public static List<OutputSpec> resolve(List<String> outputs, List<String> tags, boolean push, boolean load) {
        List<OutputSpec> specs = new ArrayList<>();
        for (String o : outputs) {
            specs.add(parse(o));
        }
        if (push
                && tags.isEmpty()
                && specs.stream()
                        .noneMatch(s -> s.type() == Type.IMAGE && s.name().isPresent())) {
            throw new IllegalArgumentException("--push needs a name to push to: add -t REGISTRY/REPOSITORY:TAG");
        }
        if (push) {
            boolean found = false;
            for (int i = 0; i < specs.size(); i++) {
                OutputSpec s = specs.get(i);
                if (s.type() == Type.IMAGE) {
                    specs.set(i, new OutputSpec(Type.IMAGE, s.dest(), s.name(), true));
                    found = true;
                }
            }
            if (!found) {
                specs.add(new OutputSpec(Type.IMAGE, Optional.empty(), Optional.empty(), true));
            }
        }
        if (load && specs.stream().noneMatch(OutputSpec::load)) {
            specs.add(new OutputSpec(Type.DOCKER, Optional.empty(), Optional.empty(), false));
        }
        for (int i = 0; i < specs.size(); i++) {
            OutputSpec s = specs.get(i);
            if (s.type() == Type.IMAGE && s.name().isEmpty()) {
                if (tags.isEmpty()) {
                    throw new IllegalArgumentException("--output type=image needs name=REF or a -t name");
                }
                specs.set(i, new OutputSpec(Type.IMAGE, s.dest(), Optional.of(String.join(",", tags)), s.push()));
            }
        }
        return specs;
    }

    private static Optional<Path> require(Optional<Path> dest, String text) {
        if (dest.isEmpty()) {
            throw new IllegalArgumentException("--output " + text + ": this type needs dest=PATH");
        }
        return dest;
    }
}
