package dev.stagefarm.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Lays out a case's build context in a work directory: its files as checked in, then what git
 * cannot hold (modes such as setuid, symlinks, hard links, empty directories, generated files).
 * Every mtime is set to 0, the time stagefarm gives context files, so BuildKit (which keeps the
 * context's times) and stagefarm can be compared on the times of everything else.
 */
final class ContextPreparer {

    private ContextPreparer() {}

    static Path prepare(ConformanceCase c, Path work) throws IOException, InterruptedException {
        Path ctx = work.resolve("context");
        try (Stream<Path> walk = Files.walk(c.dir())) {
            for (Path from : walk.toList()) {
                Path rel = c.dir().relativize(from);
                if (rel.toString().equals("expect.json")) {
                    continue;
                }
                Path to = ctx.resolve(rel.toString());
                if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                }
            }
        }
        JsonNode fix = c.spec().path("context");
        for (JsonNode dir : fix.path("mkdir")) {
            Files.createDirectories(inside(ctx, dir.asText()));
        }
        for (Map.Entry<String, JsonNode> e : fix.path("write").properties()) {
            Path p = inside(ctx, e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue().asText(), StandardCharsets.UTF_8);
        }
        for (Map.Entry<String, JsonNode> e : fix.path("symlink").properties()) {
            Path p = inside(ctx, e.getKey());
            Files.createDirectories(p.getParent());
            Files.createSymbolicLink(p, Path.of(e.getValue().asText()));
        }
        for (Map.Entry<String, JsonNode> e : fix.path("hardlink").properties()) {
            Files.createLink(inside(ctx, e.getKey()), inside(ctx, e.getValue().asText()));
        }
        for (Map.Entry<String, JsonNode> e : fix.path("mode").properties()) {
            Files.setAttribute(
                    inside(ctx, e.getKey()),
                    "unix:mode",
                    Integer.parseInt(e.getValue().asText(), 8));
        }
        Processes.check(
                List.of("find", ctx.toString(), "-exec", "touch", "-h", "-d", "@0", "{}", "+"),
                Map.of(),
                work.resolve("touch.log"));
        return ctx;
    }

    private static Path inside(Path ctx, String rel) {
        Path p = ctx.resolve(rel).normalize();
        if (!p.startsWith(ctx)) {
            throw new IllegalArgumentException("context path escapes the context: " + rel);
        }
        return p;
    }
}
