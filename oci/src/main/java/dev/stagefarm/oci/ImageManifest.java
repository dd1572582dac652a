package dev.stagefarm.oci;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** An image manifest (OCI or Docker schema2, by {@code mediaType}): one config and the layers, base first. */
public record ImageManifest(
        String mediaType, Descriptor config, List<Descriptor> layers, Map<String, String> annotations) {

    public ImageManifest {
        if (!MediaTypes.isManifest(mediaType)) {
            throw new IllegalArgumentException("not an image manifest media type: " + mediaType);
        }
        Objects.requireNonNull(config, "config");
        layers = List.copyOf(layers);
        annotations = annotations == null ? Map.of() : Collections.unmodifiableSortedMap(new TreeMap<>(annotations));
    }

    public ImageManifest(String mediaType, Descriptor config, List<Descriptor> layers) {
        this(mediaType, config, layers, Map.of());
    }
}
