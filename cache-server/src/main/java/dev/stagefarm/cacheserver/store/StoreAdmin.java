package dev.stagefarm.cacheserver.store;

import java.time.Duration;

/** Operating a store: how full it is, and removing the least recently used blobs. */
public interface StoreAdmin {

    Usage usage() throws StoreException;

    /**
     * Deletes blobs least recently used first: only those unused for at least {@code unusedFor}
     * (zero: any), and only until the stored bytes are at most {@code keepBytes} (zero: no
     * target, every candidate goes).
     */
    PruneResult prune(long keepBytes, Duration unusedFor) throws StoreException;
}
