package dev.stagefarm.cacheserver.store;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the store holds, counted when it opens ({@link Recovery}) and kept in step with every
 * commit and delete, so statistics, metrics and the --max-size check cost nothing per request:
 * blobs and stored bytes of the server and of each namespace, and which digests may be stored.
 */
final class StoreCounts {

    private final AtomicLong blobs = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    /** Per namespace: blobs, bytes and action results, for its stats and prune. */
    private final ConcurrentMap<Namespace, NamespaceCounts> namespaces = new ConcurrentHashMap<>();
    /** Answers FindMissing's "absent" without RocksDB. */
    private final DigestFilter stored = new DigestFilter();

    final AtomicLong evictedBlobs = new AtomicLong();
    final AtomicLong evictedBytes = new AtomicLong();

    /** Counts a blob made visible; returns the server's stored bytes now. */
    long added(BlobId id, long size) {
        stored.add(id.namespace().salt(), Keys.digest(id.digest()));
        in(id.namespace()).added(size);
        blobs.incrementAndGet();
        return bytes.addAndGet(size);
    }

    void removed(BlobId id, long size) {
        stored.remove(id.namespace().salt(), Keys.digest(id.digest()));
        in(id.namespace()).removed(size);
        blobs.decrementAndGet();
        bytes.addAndGet(-size);
    }

    /** False when no blob with this sha256 is stored in the namespace of {@code salt}; true when one may be. */
    boolean mayContain(long salt, byte[] sha256) {
        return stored.mayContain(salt, sha256);
    }

    /** Every namespace counted so far (those that ever held a blob or action result since the server started). */
    java.util.Set<Namespace> namespaces() {
        return namespaces.keySet();
    }

    NamespaceCounts in(Namespace namespace) {
        return namespaces.computeIfAbsent(namespace, n -> new NamespaceCounts());
    }

    AtomicLong blobs() {
        return blobs;
    }

    AtomicLong bytes() {
        return bytes;
    }
}
