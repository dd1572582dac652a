package dev.stagefarm.worker.baseimage;

/**
 * How big a base image a worker pulls and unpacks: a hostile FROM image with a huge layer or a
 * decompression bomb must not fill the worker's disk or hold it for hours. Each has a worker
 * flag; the defaults are far above real images (the largest common ones, CUDA and ML images, have
 * layers of a few GiB and sum to 10-20 GiB) and are in SECURITY.md.
 *
 * @param maxLayerBytes the most one layer may have compressed, as declared and as read ({@code --max-layer-size})
 * @param maxImageBytes the most the layers of one base image may have together, compressed ({@code --max-image-size})
 * @param maxUnpackedBytes the most one layer may expand to ({@code --max-layer-unpacked-size})
 * @param maxEntries the most tar entries one layer may hold ({@code --max-layer-entries})
 * @param maxRatio the most one layer may expand, unpacked bytes per compressed byte, once
 *     {@link #RATIO_GRACE_BYTES} are unpacked ({@code --max-layer-ratio})
 */
public record LayerLimits(
        long maxLayerBytes, long maxImageBytes, long maxUnpackedBytes, long maxEntries, long maxRatio) {

    /** A small layer may compress very well (a file of zeros): the ratio counts only past this. */
    public static final long RATIO_GRACE_BYTES = 32L << 20;

    public static final LayerLimits DEFAULTS = new LayerLimits(8L << 30, 32L << 30, 32L << 30, 2_000_000, 100);

    public LayerLimits {
        positive(maxLayerBytes, "--max-layer-size");
        positive(maxImageBytes, "--max-image-size");
        positive(maxUnpackedBytes, "--max-layer-unpacked-size");
        positive(maxEntries, "--max-layer-entries");
        positive(maxRatio, "--max-layer-ratio");
        if (maxLayerBytes > maxImageBytes) {
            throw new IllegalArgumentException("--max-layer-size (" + maxLayerBytes
                    + " bytes) is above --max-image-size (" + maxImageBytes
                    + " bytes): no image could have such a layer; raise --max-image-size too");
        }
    }

    private static void positive(long value, String flag) {
        if (value <= 0) {
            throw new IllegalArgumentException(flag + " must be above 0, not " + value);
        }
    }
}
