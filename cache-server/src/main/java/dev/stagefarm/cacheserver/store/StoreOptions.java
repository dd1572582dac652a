package dev.stagefarm.cacheserver.store;

import java.util.function.ToLongFunction;

/**
 * How a {@link RocksStore} is set up.
 *
 * @param maxBytes  the budget for stored blob bytes (sum of blob sizes); 0 = unlimited. Over it,
 *                  least recently used blobs are evicted down to {@link #evictionTarget()}.
 * @param blobFiles whether {@code blob_chunks} keeps its values in BlobDB blob files (the
 *                  default) rather than inside the SST files; false exists to measure the difference
 * @param teamQuotas the most blob bytes each team (by name) may store, 0 for no quota; asked on
 *                  every check, so a quota read from a reloaded tokens file applies at once. Over
 *                  it, the team's own least recently used blobs are evicted, nobody else's.
 */
public record StoreOptions(long maxBytes, boolean blobFiles, ToLongFunction<String> teamQuotas) {

    public static final StoreOptions DEFAULTS = new StoreOptions(0, true);

    public StoreOptions {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("max size must not be negative, got " + maxBytes);
        }
    }

    public StoreOptions(long maxBytes, boolean blobFiles) {
        this(maxBytes, blobFiles, team -> 0);
    }

    public StoreOptions withMaxBytes(long bytes) {
        return new StoreOptions(bytes, blobFiles, teamQuotas);
    }

    public StoreOptions withTeamQuotas(ToLongFunction<String> quotas) {
        return new StoreOptions(maxBytes, blobFiles, quotas);
    }

    /** The namespace's quota in bytes; 0: none. */
    long quota(Namespace namespace) {
        return Math.max(0, teamQuotas.applyAsLong(namespace.team()));
    }

    /** A team over its quota is evicted down to 95% of it, as the server is under --max-size. */
    static long target(long quota) {
        return Math.max(1, quota - quota / 20);
    }

    /**
     * Eviction stops at 95% of the budget, so a full cache does not evict on every single commit
     * (each eviction pass scans from the oldest blob).
     */
    long evictionTarget() {
        return Math.max(1, maxBytes - maxBytes / 20);
    }
}
