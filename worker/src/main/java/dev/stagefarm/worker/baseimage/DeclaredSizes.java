package dev.stagefarm.worker.baseimage;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.proto.cache.Layer;
import java.util.List;

/**
 * The sizes an image's manifest declares for its layers, checked before a byte is downloaded: a
 * layer or an image declared over the limits is refused at once. (A registry cannot then send
 * more than declared: the blob puller stops at the descriptor's size.)
 */
public final class DeclaredSizes {

    private final LayerLimits limits;

    public DeclaredSizes(LayerLimits limits) {
        this.limits = limits;
    }

    /** One layer, as its descriptor declares it. */
    public void checkLayer(Layer layer) throws LayerLimitException {
        if (layer.getSize() > limits.maxLayerBytes()) {
            throw LayerLimitException.over(
                    "layer " + layer.getDigest() + source(layer) + " is " + Units.formatSize(layer.getSize())
                            + " compressed, more than " + Units.formatSize(limits.maxLayerBytes()),
                    "--max-layer-size");
        }
    }

    /** Every layer of one image, and their sum. */
    public void checkImage(String image, List<Layer> layers) throws LayerLimitException {
        long total = 0;
        for (Layer l : layers) {
            checkLayer(l);
            total += l.getSize();
        }
        if (total > limits.maxImageBytes()) {
            throw LayerLimitException.over(
                    "image " + image + " has " + Units.formatSize(total) + " of layers compressed, more than "
                            + Units.formatSize(limits.maxImageBytes()),
                    "--max-image-size");
        }
    }

    private static String source(Layer layer) {
        return layer.getSourceRepository().isEmpty() ? "" : " of " + layer.getSourceRepository();
    }
}
