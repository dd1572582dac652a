package dev.stagefarm.cacheserver.store;

import java.util.concurrent.atomic.AtomicLong;

/** One namespace's blobs, stored bytes and action results, counted on open and kept in step. */
public final class NamespaceCounts {

    final AtomicLong blobs = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong actions = new AtomicLong();

    void added(long size) {
        blobs.incrementAndGet();
        bytes.addAndGet(size);
    }

    void removed(long size) {
        blobs.decrementAndGet();
        bytes.addAndGet(-size);
    }
}
