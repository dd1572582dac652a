package dev.stagefarm.cacheserver.mounts;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.cacheserver.store.BlobNotFoundException;
import dev.stagefarm.cacheserver.store.BlobReader;
import dev.stagefarm.cacheserver.store.BlobStore;
import dev.stagefarm.cacheserver.store.MountHeads;
import dev.stagefarm.cacheserver.store.MountKey;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.MountDelta;
import dev.stagefarm.proto.cache.MountEntry;
import dev.stagefarm.proto.cache.MountHead;
import dev.stagefarm.proto.cache.MountManifest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared cache mounts on top of the blob store: a mount's state is a {@link MountManifest} blob
 * whose files are blobs too, and its head row ({@link MountHeads}) names the current manifest.
 * A publish merges a delta onto the head under the mount's lock, so concurrent publishes are
 * applied one after the other and none is lost.
 *
 * <p>Superseded manifests stay as ordinary blobs until LRU eviction or prune takes them: a worker
 * may be reading one while the head moves on. Each publish looks up every file of the new
 * manifest, which marks them used for LRU; files whose blobs were evicted leave the manifest
 * then (a cache entry lost, rebuilt by the next step that needs it).
 */
public final class MountStore {

    /** A delta or manifest is parsed in memory; this bounds it (≈ 3 million entries). */
    static final long MAX_MANIFEST_BYTES = 256L << 20;

    private static final Logger log = LoggerFactory.getLogger(MountStore.class);

    /** The blob store of a team's namespace: a mount's manifests and files live with its team's blobs. */
    private final Function<String, BlobStore> blobsOf;

    private final MountHeads heads;
    private final MountMetrics metrics;
    private final Clock clock;
    private final ConcurrentMap<MountKey, Object> locks = new ConcurrentHashMap<>();

    public MountStore(Function<String, BlobStore> blobsOf, MountHeads heads, MountMetrics metrics, Clock clock) {
        this.blobsOf = blobsOf;
        this.heads = heads;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** The mount's current head; generation 0 with no manifest when it was never published. */
    MountHead head(MountKey key) throws StoreException {
        return heads.get(key)
                .orElseGet(() -> MountHead.newBuilder().setId(key.id()).build());
    }

    /** Merges the delta stored as blob {@code deltaDigest} onto the head and returns the new head. */
    MountHead publish(MountKey key, Digest deltaDigest) throws StoreException, MountException {
        BlobStore blobs = blobsOf.apply(key.team());
        MountDelta delta;
        try {
            delta = MountDelta.parseFrom(readBlob(blobs, deltaDigest, "the delta of cache mount " + key));
        } catch (InvalidProtocolBufferException e) {
            throw new MountException(
                    MountException.Reason.INVALID, "the delta blob " + deltaDigest + " is not a MountDelta");
        }
        ManifestMerge.validate(delta);
        List<Digest> added = delta.getUpsertsList().stream()
                .filter(e -> e.getType() == MountEntry.Type.FILE)
                .map(e -> Digest.parse(e.getDigest()))
                .toList();
        // (RocksDB's multiGet asserts on an empty list)
        Set<Digest> missing = added.isEmpty() ? Set.of() : blobs.missing(added);
        if (!missing.isEmpty()) {
            throw new MountException(
                    MountException.Reason.BLOBS_MISSING,
                    "the delta of cache mount " + key + " adds "
                            + missing.size() + " files the cache does not hold (first "
                            + missing.iterator().next()
                            + "); upload them, then publish");
        }
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            MountHead before = head(key);
            TreeMap<String, MountEntry> entries = ManifestMerge.byPath(manifest(blobs, key, before));
            ManifestMerge.apply(entries, delta);
            int lost = dropEvicted(blobs, entries);
            if (lost > 0) {
                log.info("cache-server: cache mount {} lost {} files whose blobs were evicted", key, lost);
            }
            byte[] bytes = ManifestMerge.manifest(entries.values()).toByteArray();
            Digest manifestDigest = Digest.of(bytes);
            blobs.putSmall(manifestDigest, bytes);
            long files = 0;
            long size = 0;
            for (MountEntry e : entries.values()) {
                if (e.getType() == MountEntry.Type.FILE) {
                    files++;
                    size += e.getSize();
                }
            }
            MountHead after = MountHead.newBuilder()
                    .setId(key.id())
                    .setManifestDigest(manifestDigest.toString())
                    .setGeneration(before.getGeneration() + 1)
                    .setUpdatedMillis(clock.millis())
                    .setFiles(files)
                    .setBytes(size)
                    .build();
            heads.put(key, after);
            metrics.published(delta);
            return after;
        }
    }

    List<MountHead> list(String team) throws StoreException {
        return heads.list(team);
    }

    /** Drops the named heads of {@code team}, or all of them when {@code ids} is empty. */
    int drop(String team, List<String> ids) throws StoreException {
        List<String> targets = new ArrayList<>(ids);
        if (targets.isEmpty()) {
            heads.list(team).forEach(h -> targets.add(h.getId()));
        }
        int dropped = 0;
        for (String id : targets) {
            MountKey key = new MountKey(team, id);
            synchronized (locks.computeIfAbsent(key, k -> new Object())) {
                if (heads.delete(key)) {
                    dropped++;
                }
            }
        }
        return dropped;
    }

    /** The head's manifest; empty for a new mount, or when its blob has been evicted (logged). */
    private static MountManifest manifest(BlobStore blobs, MountKey key, MountHead head)
            throws StoreException, MountException {
        if (head.getManifestDigest().isEmpty()) {
            return MountManifest.getDefaultInstance();
        }
        Digest digest = Digest.parse(head.getManifestDigest());
        if (!blobs.contains(digest)) {
            log.warn("cache-server: the manifest of cache mount {} was evicted; the mount starts over empty", key);
            return MountManifest.getDefaultInstance();
        }
        try {
            return MountManifest.parseFrom(readBlob(blobs, digest, "the manifest of cache mount " + key));
        } catch (InvalidProtocolBufferException e) {
            log.error(
                    "cache-server: the manifest of cache mount {} is unreadable; the mount starts over empty", key, e);
            return MountManifest.getDefaultInstance();
        }
    }

    /** Removes files whose blobs the cache no longer holds; looking them up marks the rest used. */
    private static int dropEvicted(BlobStore blobs, TreeMap<String, MountEntry> entries) throws StoreException {
        List<Digest> files = entries.values().stream()
                .filter(e -> e.getType() == MountEntry.Type.FILE)
                .map(e -> Digest.parse(e.getDigest()))
                .toList();
        Set<Digest> gone = files.isEmpty() ? Set.of() : blobs.missing(files);
        if (gone.isEmpty()) {
            return 0;
        }
        int before = entries.size();
        entries.values()
                .removeIf(e -> e.getType() == MountEntry.Type.FILE && gone.contains(Digest.parse(e.getDigest())));
        return before - entries.size();
    }

    private static byte[] readBlob(BlobStore blobs, Digest digest, String what) throws StoreException, MountException {
        long size;
        try {
            size = blobs.size(digest);
        } catch (BlobNotFoundException e) {
            throw new MountException(
                    MountException.Reason.BLOBS_MISSING,
                    what + " (" + digest + ") is not stored; upload it, then publish");
        }
        if (size > MAX_MANIFEST_BYTES) {
            throw new MountException(
                    MountException.Reason.INVALID,
                    what + " is " + size + " bytes, over the " + MAX_MANIFEST_BYTES + "-byte limit");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) size);
        try (BlobReader reader = blobs.openRead(digest, 0, 0)) {
            for (ByteBuffer piece = reader.next(); piece != null; piece = reader.next()) {
                byte[] bytes = new byte[piece.remaining()];
                piece.get(bytes);
                out.write(bytes, 0, bytes.length);
            }
        }
        return out.toByteArray();
    }
}
