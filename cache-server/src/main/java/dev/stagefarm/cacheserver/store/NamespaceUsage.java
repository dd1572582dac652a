package dev.stagefarm.cacheserver.store;

/**
 * One team's part of the store, from the counts kept as blobs come and go (no scan).
 *
 * @param quotaBytes the team's quota in effect; 0 for none
 */
public record NamespaceUsage(String team, long blobCount, long storedBytes, long actionEntries, long quotaBytes) {}
