package dev.stagefarm.oci;

import java.util.List;
import java.util.Optional;

/** An OCI index or Docker manifest list: one manifest per platform. */
public record ImageIndex(String mediaType, List<Descriptor> manifests) {

    public ImageIndex {
        if (!MediaTypes.isIndex(mediaType)) {
            throw new IllegalArgumentException("not an index media type: " + mediaType);
        }
        manifests = List.copyOf(manifests);
    }

    /** The first image manifest built for {@code platform}, as registries and Docker pick it. */
    public Optional<Descriptor> manifestFor(Platform platform) {
        return manifests.stream()
                .filter(d -> MediaTypes.isManifest(d.mediaType()))
                .filter(d -> d.platform() != null && platform.accepts(d.platform()))
                .findFirst();
    }
}
