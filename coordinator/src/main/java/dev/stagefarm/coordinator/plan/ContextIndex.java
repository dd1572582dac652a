package dev.stagefarm.coordinator.plan;

import dev.stagefarm.common.GoGlob;
import dev.stagefarm.common.fs.RootedPaths;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.CopySource;
import dev.stagefarm.proto.farm.NamedContextSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The build context as the coordinator sees it: paths, modes and content digests, no bytes.
 * Enough to check that a COPY source exists and to key the step on exactly what it copies.
 */
public final class ContextIndex {

    private final TreeMap<String, ContextEntry> entries = new TreeMap<>();
    /** {@code --build-context NAME=PATH}: further directory contexts, see {@link NamedContexts}. */
    private final NamedContexts named;
    /** How errors name this context: "build context", or "build context NAME" for a named one. */
    private final String label;

    /** A directory context and the name it was given to the build. */
    public record Named(String name, String digest, ContextIndex index) {}

    public ContextIndex(ContextManifest manifest) {
        this(manifest, NamedContexts.NONE);
    }

    public ContextIndex(ContextManifest manifest, NamedContexts named) {
        this(manifest, named, "build context");
    }

    ContextIndex(ContextManifest manifest, NamedContexts named, String label) {
        manifest.getEntriesList().forEach(e -> entries.put(e.getPath(), e));
        this.named = named;
        this.label = label;
    }

    /**
     * The directory a COPY reads: this context without {@code --from}, a named directory context
     * for {@code --from=NAME}; empty when {@code from} names a stage or an image.
     */
    Optional<ContextIndex> copyContext(String from) {
        return from == null ? Optional.of(this) : named.directory(from).map(Named::index);
    }

    /** How a job names the directory {@link #copyContext} found. */
    CopySource copySource(String from) {
        return named.directory(from == null ? "" : from)
                .filter(n -> from != null)
                .map(n -> CopySource.newBuilder()
                        .setNamedContext(NamedContextSource.newBuilder()
                                .setName(n.name())
                                .setContextDigest(n.digest()))
                        .build())
                .orElse(CopySource.newBuilder().setContext(true).build());
    }

    /**
     * The entries a COPY source selects (a directory brings everything below it), sorted. A
     * wildcard that matches nothing selects nothing, as BuildKit allows; a missing name is an error.
     */
    List<ContextEntry> select(String source) throws MissingSourceException {
        String clean = clean(source);
        List<ContextEntry> out = new ArrayList<>();
        if (clean.isEmpty()) {
            out.addAll(entries.values());
            return out;
        }
        List<String> roots = new ArrayList<>();
        if (GoGlob.hasMeta(clean)) {
            Pattern p = GoGlob.compile(clean);
            entries.keySet().stream().filter(k -> p.matcher(k).matches()).forEach(roots::add);
        } else if (entries.containsKey(clean)) {
            roots.add(clean);
        }
        if (roots.isEmpty() && !GoGlob.hasMeta(clean)) {
            throw new MissingSourceException(source, label);
        }
        for (String root : roots) {
            out.add(entries.get(root));
            out.addAll(entries.subMap(root + "/", root + "/\uffff").values());
            if (entries.get(root).getType() == ContextEntry.Type.SYMLINK) {
                // the worker copies what a symlink source points to: key the step on that too
                String target = resolve(root);
                if (target != null && target.isEmpty()) {
                    out.addAll(entries.values());
                    continue;
                }
                if (target == null || !entries.containsKey(target)) {
                    throw new MissingSourceException(source, label);
                }
                out.add(entries.get(target));
                out.addAll(entries.subMap(target + "/", target + "/\uffff").values());
            }
        }
        return out;
    }

    /**
     * The context path a path names once every symlink in it is followed inside the context
     * (an absolute target starts at the context root); "" for the root, null for a link loop.
     */
    private String resolve(String path) {
        ArrayDeque<String> todo = new ArrayDeque<>(List.of(path.split("/")));
        ArrayDeque<String> done = new ArrayDeque<>();
        for (int links = 0; !todo.isEmpty(); ) {
            String part = todo.poll();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                done.pollLast();
                continue;
            }
            done.addLast(part);
            ContextEntry e = entries.get(String.join("/", done));
            if (e != null && e.getType() == ContextEntry.Type.SYMLINK) {
                if (++links > 255) {
                    return null;
                }
                done.pollLast();
                if (e.getLinkTarget().startsWith("/")) {
                    done.clear();
                }
                List<String> parts = List.of(e.getLinkTarget().split("/"));
                for (int i = parts.size() - 1; i >= 0; i--) {
                    todo.addFirst(parts.get(i));
                }
            }
        }
        return String.join("/", done);
    }

    /**
     * {@code selected} without what {@code --exclude} patterns leave out: a pattern matches a
     * path or one of its parent directories (as .dockerignore patterns do).
     */
    static List<ContextEntry> excluding(List<ContextEntry> selected, String source, List<String> patterns) {
        if (patterns.isEmpty()) {
            return selected;
        }
        List<Pattern> compiled =
                patterns.stream().map(p -> GoGlob.compile(clean(p))).toList();
        // patterns apply to paths below the context root and below the copied source (which has
        // as many components as the source pattern that matched it)
        String cleanSource = clean(source);
        int depth = cleanSource.isEmpty() ? 0 : cleanSource.split("/").length;
        return selected.stream()
                .filter(e -> !excluded(e.getPath(), compiled) && !excluded(below(e.getPath(), depth), compiled))
                .toList();
    }

    private static String below(String path, int depth) {
        String rest = path;
        for (int i = 0; i < depth; i++) {
            int slash = rest.indexOf('/');
            if (slash < 0) {
                return "";
            }
            rest = rest.substring(slash + 1);
        }
        return rest;
    }

    static boolean excluded(String path, List<Pattern> patterns) {
        return GoGlob.excludes(patterns, path);
    }

    /** Adds what a step copies to its key: paths, types, modes and contents, never times. */
    static void addTo(CacheKey key, List<ContextEntry> selected) {
        key.add(Integer.toString(selected.size()));
        for (ContextEntry e : selected) {
            key.add(e.getPath())
                    .add(e.getType().name())
                    .add(Integer.toOctalString(e.getMode()))
                    .add(e.getType() == ContextEntry.Type.SYMLINK ? e.getLinkTarget() : e.getDigest());
            if (e.getType() == ContextEntry.Type.HARDLINK) {
                key.add(e.getLinkTarget());
            }
        }
    }

    static String clean(String source) {
        return RootedPaths.clean(source);
    }

    static final class MissingSourceException extends Exception {
        MissingSourceException(String source, String context) {
            super("\"" + source + "\" not found in the " + context + " (is it left out by .dockerignore?)");
        }
    }
}
