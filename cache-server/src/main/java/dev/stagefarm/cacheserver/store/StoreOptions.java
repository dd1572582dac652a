package dev.stagefarm.cacheserver.store;

/**
 * How a {@link RocksStore} is set up.
 *
 * @param maxBytes  the budget for stored blob bytes (sum of blob sizes); 0 = unlimited. Over it,
 *                  least recently used blobs are evicted down to {@link #evictionTarget()}.
 * @param blobFiles whether {@code blob_chunks} keeps its values in BlobDB blob files (the
 *                  default) rather than inside the SST files; false exists to measure the difference
 */
public record StoreOptions(long maxBytes, boolean blobFiles) {

    public static final StoreOptions DEFAULTS = new StoreOptions(0, true);

    public StoreOptions {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("max size must not be negative, got " + maxBytes);
        }
    }

    public StoreOptions withMaxBytes(long bytes) {
        return new StoreOptions(bytes, blobFiles);
    }

    /**
     * Eviction stops at 95% of the budget, so a full cache does not evict on every single commit
     * (each eviction pass scans from the oldest blob).
     */
    long evictionTarget() {
        return Math.max(1, maxBytes - maxBytes / 20);
    }
}
