package dev.stagefarm.cacheserver.store;

/** What a prune or an eviction pass removed, and what is left. */
public record PruneResult(long blobsDeleted, long bytesFreed, long blobCount, long storedBytes) {}
