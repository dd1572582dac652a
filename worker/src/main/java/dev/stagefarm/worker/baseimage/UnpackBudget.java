package dev.stagefarm.worker.baseimage;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.oci.layer.UnpackMeter;

/**
 * What unpacking one layer has cost so far, counted as the bytes go by (never from a header):
 * compressed bytes read, bytes the decompressor made of them, file bytes written, entries. Past a
 * {@link LayerLimits} limit the next read fails with {@link LayerLimitException}, so a bomb stops
 * after at most a buffer's worth beyond the limit. One budget per layer unpacked.
 */
public final class UnpackBudget implements UnpackMeter {

    private final LayerLimits limits;
    private final String layer;
    private long compressed;
    private long expanded;
    private long written;
    private long entries;

    /** @param layer how the sentence names the layer: its digest, and its image where known */
    public UnpackBudget(LayerLimits limits, String layer) {
        this.limits = limits;
        this.layer = layer;
    }

    @Override
    public void compressed(long bytes) throws LayerLimitException {
        compressed += bytes;
        if (compressed > limits.maxLayerBytes()) {
            // a blob from the cache is not bounded by a registry's descriptor
            throw LayerLimitException.over(
                    "layer " + layer + " is more than " + Units.formatSize(limits.maxLayerBytes()) + " compressed",
                    "--max-layer-size");
        }
    }

    @Override
    public void expanded(long bytes) throws LayerLimitException {
        expanded += bytes;
        check();
    }

    @Override
    public void written(long bytes) throws LayerLimitException {
        written += bytes;
        check();
    }

    @Override
    public void entry() throws LayerLimitException {
        if (++entries > limits.maxEntries()) {
            throw LayerLimitException.over(
                    "layer " + layer + " holds more than " + limits.maxEntries() + " files", "--max-layer-entries");
        }
    }

    private void check() throws LayerLimitException {
        long out = Math.max(expanded, written);
        if (out > limits.maxUnpackedBytes()) {
            throw LayerLimitException.over(
                    "layer " + layer + " unpacks to more than " + Units.formatSize(limits.maxUnpackedBytes()),
                    "--max-layer-unpacked-size");
        }
        if (out > LayerLimits.RATIO_GRACE_BYTES && out / Math.max(compressed, 1) > limits.maxRatio()) {
            throw LayerLimitException.over(
                    "layer " + layer + " expands more than " + limits.maxRatio() + " times its compressed "
                            + Units.formatSize(compressed) + " (a decompression bomb?)",
                    "--max-layer-ratio");
        }
    }
}
