package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.farm.ImageSource;

/** {@code COPY --from=IMAGE}: the image's layers, resolved the way FROM resolves a base. */
public final class ImageSources {

    private ImageSources() {}

    /** @throws BaseImageResolver.BaseImageException the image cannot be resolved; the message says why */
    public static ImageSource resolve(BaseImageResolver bases, String ref) throws BaseImageResolver.BaseImageException {
        StageBase image = bases.resolve(ref);
        return ImageSource.newBuilder()
                .setRegistryRepository(image.image().getRegistryRepository())
                .addAllLayers(image.image().getLayersList())
                .build();
    }
}
