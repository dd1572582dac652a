package dev.stagefarm.coordinator.plan;

import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.BaseImage;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.proto.farm.NamedContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code --build-context NAME=PATH|docker-image://REF}, with BuildKit's meaning: the name stands for
 * that context wherever the Dockerfile names a stage or an image ({@code FROM NAME},
 * {@code COPY --from=NAME}, {@code RUN --mount=from=NAME}); a stage of that name is replaced, and so
 * never built unless something else needs it. An image name matches in its normalized form too
 * ({@code alpine} is {@code docker.io/library/alpine:latest}). A directory a stage starts FROM
 * arrives as one layer the client made of its files.
 */
public final class NamedContexts {

    public static final NamedContexts NONE = new NamedContexts(Map.of(), Map.of(), Map.of());

    /** Reads a directory context's manifest from the cache. */
    public interface ManifestReader {
        ContextManifest read(String digest) throws IOException;
    }

    /** Images by name (lower-case, as written and normalized). */
    private final Map<String, String> images;
    /** Directory contexts by name (lower-case, as written and normalized). */
    private final Map<String, ContextIndex.Named> directories;
    /** The layers of directory contexts a stage starts FROM, by name as {@link #directories}. */
    private final Map<String, Layer> baseLayers;

    private NamedContexts(
            Map<String, String> images, Map<String, ContextIndex.Named> directories, Map<String, Layer> baseLayers) {
        this.images = images;
        this.directories = directories;
        this.baseLayers = baseLayers;
    }

    public static NamedContexts of(List<NamedContext> contexts, ManifestReader manifests) throws IOException {
        Map<String, String> images = new LinkedHashMap<>();
        Map<String, ContextIndex.Named> directories = new LinkedHashMap<>();
        Map<String, Layer> baseLayers = new LinkedHashMap<>();
        for (NamedContext c : contexts) {
            for (String key : keys(c.getName())) {
                if (c.hasBaseLayer()) {
                    baseLayers.put(key, c.getBaseLayer());
                }
                switch (c.getKindCase()) {
                    case IMAGE -> images.put(key, c.getImage());
                    case CONTEXT_DIGEST ->
                        directories.put(
                                key,
                                new ContextIndex.Named(
                                        c.getName(),
                                        c.getContextDigest(),
                                        new ContextIndex(
                                                manifests.read(c.getContextDigest()),
                                                NONE,
                                                "build context " + c.getName())));
                    default ->
                        throw new IOException("--build-context " + c.getName() + " names neither a directory"
                                + " nor an image; the client is newer than this coordinator");
                }
            }
        }
        return new NamedContexts(Map.copyOf(images), Map.copyOf(directories), Map.copyOf(baseLayers));
    }

    /** The name as written, and as a normalized image reference when it parses as one. */
    private static List<String> keys(String name) {
        List<String> keys = new ArrayList<>();
        keys.add(name.toLowerCase(Locale.ROOT));
        normalized(name).ifPresent(keys::add);
        return keys;
    }

    private static Optional<String> normalized(String name) {
        try {
            return Optional.of(ImageReference.parse(name).toString().toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException notAnImageName) {
            return Optional.empty();
        }
    }

    private <T> Optional<T> lookup(Map<String, T> map, String name) {
        T exact = map.get(name.toLowerCase(Locale.ROOT));
        return exact != null ? Optional.of(exact) : normalized(name).map(map::get);
    }

    /** The directory context {@code name} stands for, if any. */
    public Optional<ContextIndex.Named> directory(String name) {
        return lookup(directories, name);
    }

    private boolean replaces(String stageName) {
        return lookup(images, stageName).isPresent()
                || lookup(directories, stageName).isPresent();
    }

    /**
     * The Dockerfile with the stages a named context replaces made anonymous: a reference to the
     * name then reaches the context, and the stage is built only if something names it by index.
     */
    public Dockerfile replaceStages(Dockerfile df, Optional<String> target) {
        if (images.isEmpty() && directories.isEmpty()) {
            return df;
        }
        List<Stage> stages = new ArrayList<>();
        for (Stage s : df.stages()) {
            // the stage asked for is built, whatever else its name stands for
            boolean isTarget = target.isPresent()
                    ? s.name()
                            .filter(target.get().toLowerCase(Locale.ROOT)::equals)
                            .isPresent()
                    : s.index() == df.stages().size() - 1;
            boolean replaced = !isTarget && s.name().filter(this::replaces).isPresent();
            stages.add(
                    replaced
                            ? new Stage(
                                    s.index(),
                                    Optional.empty(),
                                    s.baseImage(),
                                    s.platform(),
                                    s.line(),
                                    s.instructions(),
                                    s.original())
                            : s);
        }
        return new Dockerfile(df.globalArgs(), stages, df.directives(), df.fileName());
    }

    /**
     * A resolver that sees the named contexts first: an image context resolves to its image, a
     * directory context as FROM is refused with what to do instead.
     */
    public BaseImageResolver resolver(BaseImageResolver registry) {
        return image -> {
            Optional<Layer> layer = lookup(baseLayers, image);
            if (layer.isPresent()) {
                // the directory's files are the stage's root, as FROM scratch + COPY . / would make it
                return new StageBase(
                        CacheKey.of("named-context")
                                .add(layer.get().getDiffId())
                                .build(),
                        BaseImage.newBuilder()
                                .addLayers(layer.get())
                                .setDescription("context " + image)
                                .build(),
                        ImageConfigEditor.scratch(),
                        List.of(),
                        "context " + image,
                        -1);
            }
            if (lookup(directories, image).isPresent()) {
                throw new BaseImageResolver.BaseImageException(
                        "--build-context " + image + " is a directory: only COPY --from=" + image
                                + " can use it yet (FROM and RUN --mount=from= need docker-image://REF)",
                        null);
            }
            Optional<String> ref = lookup(images, image);
            if (ref.isEmpty()) {
                return registry.resolve(image);
            }
            try {
                return registry.resolve(ref.get());
            } catch (BaseImageResolver.BaseImageException e) {
                throw new BaseImageResolver.BaseImageException(
                        "--build-context " + image + "=docker-image://" + ref.get() + ": " + e.getMessage(), e);
            }
        };
    }
}
