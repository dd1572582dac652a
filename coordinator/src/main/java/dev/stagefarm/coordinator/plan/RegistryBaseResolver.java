package dev.stagefarm.coordinator.plan;

import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryException;
import dev.stagefarm.oci.registry.ResolvedImage;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.BaseImage;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** Resolves FROM images through the registry client: tag to digest, layers, config. */
public final class RegistryBaseResolver implements BaseImageResolver {

    private final RegistryClient registry;
    /** By registry host: who can supply credentials a registry asked for and did not get. */
    private final Function<String, Optional<String>> credentialsHint;

    public RegistryBaseResolver(RegistryClient registry) {
        this(registry, host -> Optional.empty());
    }

    /** @param credentialsHint the sentence for a 401 from a host, when the farm knows better than "docker login" */
    public RegistryBaseResolver(RegistryClient registry, Function<String, Optional<String>> credentialsHint) {
        this.registry = registry;
        this.credentialsHint = credentialsHint;
    }

    @Override
    public StageBase resolve(String image) throws BaseImageException {
        ImageReference ref;
        try {
            ref = ImageReference.parse(image);
        } catch (IllegalArgumentException e) {
            throw new BaseImageException("invalid image name \"" + image + "\": " + e.getMessage(), e);
        }
        ResolvedImage resolved;
        try {
            resolved = registry.resolve(ref, Platform.LINUX_AMD64);
        } catch (RegistryException e) {
            Optional<String> hint = e.httpStatus() == 401 ? credentialsHint.apply(ref.registry()) : Optional.empty();
            throw new BaseImageException(hint.map(h -> image + ": " + h).orElse(e.getMessage()), e);
        }
        List<Digest> diffIds = resolved.config().diffIds();
        List<Descriptor> descriptors = resolved.manifest().layers();
        if (diffIds.size() != descriptors.size()) {
            throw new BaseImageException(
                    image + ": the image config lists " + diffIds.size() + " layers but the manifest "
                            + descriptors.size() + "; the image is broken",
                    null);
        }
        String repository = ref.registry() + "/" + ref.repository();
        BaseImage.Builder base = BaseImage.newBuilder().setRegistryRepository(repository);
        for (int i = 0; i < descriptors.size(); i++) {
            Descriptor d = descriptors.get(i);
            base.addLayers(Layer.newBuilder()
                    .setDigest(d.digest().toString())
                    .setDiffId(diffIds.get(i).toString())
                    .setSize(d.size())
                    .setMediaType(d.mediaType())
                    .setSourceRepository(repository));
        }
        ImageConfigEditor config = ImageConfigEditor.of(resolved.config());
        String pinned = resolved.ref().toString();
        return new StageBase(
                CacheKey.of("from").add(resolved.manifestDigest().toString()).build(),
                base.build(),
                config,
                config.history(),
                pinned,
                -1);
    }
}
