package dev.stagefarm.cacheserver.store;

/**
 * How full the store is. Blob counts and bytes are exact (kept as blobs commit and go);
 * {@code diskBytes} is what RocksDB reports and trails deletions until compaction.
 */
public record Usage(
        long blobCount,
        long storedBytes,
        long actionEntries,
        long maxBytes,
        long uploadsInProgress,
        long diskBytes,
        long evictedBlobs,
        long evictedBytes,
        long oldestAccessMillis) {}
