package dev.stagefarm.worker.cachemount;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.MountUse;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.proto.cache.MountDelta;
import dev.stagefarm.proto.cache.MountEntry;
import dev.stagefarm.proto.cache.MountHead;
import dev.stagefarm.proto.cache.MountManifest;
import dev.stagefarm.proto.cache.MountSharing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code RUN --mount=type=cache} shared by the whole farm through the cache-server. Before a step
 * this worker's copy of the mount is brought to the head (only what changed is fetched); after it,
 * what the step changed is uploaded (only content the cache lacks) and published as a delta.
 * The cache-server decides who may use the mount when ({@code CacheMounts.Use}): a LOCKED step
 * waits for the farm-wide lease, a PRIVATE step that finds the mount busy gets a copy whose
 * changes are dropped.
 *
 * <p>Files larger than {@code maxFileBytes} stay on the worker that wrote them and are never
 * published: one such file would cost every other worker its transfer on every sync.
 */
public final class SharedCacheMounts {

    /** The default of {@code maxFileBytes}. */
    public static final long MAX_FILE_BYTES = 512L << 20;
    /** As long as a RUN may take: a LOCKED step waits for the one before it. */
    private static final Duration MAX_WAIT = Duration.ofHours(2);

    private static final String PRIVATE_PREFIX = "private-";
    private static final String NEW_PREFIX = "new-shared-";

    private static final Logger log = LoggerFactory.getLogger(SharedCacheMounts.class);

    private final Path root;
    private final CacheClient cache;
    private final MountSync sync;
    private final MountSyncMetrics metrics;
    private final long maxFileBytes;
    private final ConcurrentMap<String, LocalMount> locals = new ConcurrentHashMap<>();

    /**
     * @param root where this worker's copies of mounts live, one directory per team and id
     */
    public SharedCacheMounts(Path root, CacheClient cache, MountSyncMetrics metrics, long maxFileBytes) {
        this.root = root;
        this.cache = cache;
        this.sync = new MountSync(cache);
        this.metrics = metrics;
        this.maxFileBytes = maxFileBytes;
        dropLeftovers(root);
    }

    /** PRIVATE copies and half-made directories of a worker that was killed are nobody's: they go. */
    private static void dropLeftovers(Path root) {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> entries = Files.list(root)) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(PRIVATE_PREFIX) || name.startsWith(NEW_PREFIX)) {
                    FileTrees.deleteRecursively(p);
                }
            }
        } catch (IOException e) {
            log.warn("worker: could not remove leftover cache-mount copies in {}: {}", root, e.getMessage());
        }
    }

    /** The owner and mode the mount's root directory gets when it is created. */
    public record RootOptions(int uid, int gid, int mode) {}

    /**
     * Starts a step's use of mount {@code id}: waits for it when LOCKED, then readies its directory.
     * Close the session after the step: that publishes (when the step owns the mount) and ends the use.
     */
    public Session open(String team, String id, String sharing, RootOptions options) throws IOException {
        long start = System.nanoTime();
        MountUse use = cache.mounts()
                .use(
                        id,
                        sharing(sharing),
                        ahead -> log.info(
                                "worker: cache mount {} is locked by another step; {} ahead of this one", id, ahead),
                        MAX_WAIT);
        metrics.waited(Duration.ofNanos(System.nanoTime() - start));
        try {
            if (!use.publishes()) {
                Path copy = Files.createTempDirectory(Files.createDirectories(root), PRIVATE_PREFIX);
                try {
                    applyRoot(copy, options);
                    count(sync.sync(copy, seed(team, id, copy), target(use.head())));
                    return new Session(use, null, copy);
                } catch (IOException | RuntimeException e) {
                    FileTrees.deleteRecursively(copy);
                    throw e;
                }
            }
            LocalMount local = locals.computeIfAbsent(dirName(team, id), name -> new LocalMount(root.resolve(name)));
            local.lock.lock();
            try {
                if (local.users == 0) {
                    ready(local, use.head(), options);
                }
                local.users++;
            } finally {
                local.lock.unlock();
            }
            return new Session(use, local, local.dir);
        } catch (IOException | RuntimeException e) {
            use.close();
            throw e;
        }
    }

    /** What a PRIVATE copy can take from this worker's own copy, when no step here uses it now. */
    private Map<String, MountEntry> seed(String team, String id, Path copy) throws IOException {
        LocalMount local = locals.computeIfAbsent(dirName(team, id), name -> new LocalMount(root.resolve(name)));
        if (!local.lock.tryLock()) {
            return Map.of();
        }
        try {
            if (local.users > 0 || !Files.isDirectory(local.dir)) {
                return Map.of();
            }
            local.load();
            return MountSeed.copy(local.dir, copy, local.known);
        } finally {
            local.lock.unlock();
        }
    }

    /** Brings the directory to {@code head}, unless it is known to equal it already. */
    private void ready(LocalMount local, MountHead head, RootOptions options) throws IOException {
        if (!Files.isDirectory(local.dir)) {
            Files.createDirectories(root);
            Path temp = Files.createTempDirectory(root, NEW_PREFIX);
            applyRoot(temp, options);
            Files.move(temp, local.dir, StandardCopyOption.ATOMIC_MOVE);
        }
        local.load();
        if (head.getManifestDigest().equals(local.syncedManifest)) {
            return;
        }
        MountSync.Result result = sync.sync(local.dir, local.known, target(head));
        count(result);
        local.remember(result.entries(), result.lostFiles() == 0 ? head : null);
    }

    private TreeMap<String, MountEntry> target(MountHead head) throws IOException {
        TreeMap<String, MountEntry> entries = new TreeMap<>();
        if (head.getManifestDigest().isEmpty()) {
            return entries;
        }
        try {
            for (MountEntry e : MountManifest.parseFrom(cache.readBytes(Digest.parse(head.getManifestDigest())))
                    .getEntriesList()) {
                entries.put(e.getPath(), e);
            }
        } catch (NoSuchFileException evicted) {
            log.warn(
                    "worker: the manifest of cache mount {} was evicted from the cache; starting it empty",
                    head.getId());
        }
        return entries;
    }

    private void count(MountSync.Result result) {
        metrics.fetchedBytes.increment(result.fetchedBytes());
        metrics.fetchedFiles.increment(result.fetchedFiles());
    }

    /** Scans, uploads what the cache lacks, publishes the delta (under the local lock). */
    private void publish(LocalMount local, MountUse use) throws IOException {
        MountScanner.Scan scan = MountScanner.scan(local.dir, local.known, maxFileBytes);
        if (scan.tooLarge() > 0 || scan.special() > 0) {
            log.info(
                    "worker: cache mount {}: {} files over {} bytes and {} special files stay on this worker only",
                    use.id(),
                    scan.tooLarge(),
                    maxFileBytes,
                    scan.special());
        }
        MountDelta delta = MountDeltas.between(local.known, scan.entries());
        if (MountDeltas.isEmpty(delta)) {
            metrics.unchanged.increment();
            return;
        }
        Map<Digest, Path> upserted = new HashMap<>();
        for (MountEntry e : delta.getUpsertsList()) {
            if (e.getType() == MountEntry.Type.FILE) {
                Digest d = Digest.parse(e.getDigest());
                upserted.put(d, scan.files().get(d));
            }
        }
        for (Digest d : cache.uploadAll(upserted)) {
            metrics.uploadedFiles.increment();
            metrics.uploadedBytes.increment(Files.size(upserted.get(d)));
        }
        Digest deltaBlob = cache.upload(delta.toByteArray());
        MountHead head = cache.mounts().publish(use, deltaBlob);
        // the directory equals the new head only if nobody else published since this step started
        boolean onlyUs = head.getGeneration() == use.head().getGeneration() + 1
                && use.head().getManifestDigest().equals(local.syncedManifest);
        local.remember(scan.entries(), onlyUs ? head : null);
        metrics.published.increment();
    }

    /** One step's mount: the directory to bind, and what to do when the step has ended. */
    public final class Session implements AutoCloseable {
        private final MountUse use;
        private final LocalMount local;
        private final Path dir;

        private Session(MountUse use, LocalMount local, Path dir) {
            this.use = use;
            this.local = local;
            this.dir = dir;
        }

        public Path dir() {
            return dir;
        }

        /** Whether this step's changes will be published (false: a PRIVATE copy). */
        public boolean publishes() {
            return local != null;
        }

        /** Publishes the step's changes (or drops a private copy), then ends the use. Never throws. */
        @Override
        public void close() {
            try {
                if (local == null) {
                    FileTrees.deleteRecursively(dir);
                    return;
                }
                local.lock.lock();
                try {
                    publish(local, use);
                } finally {
                    local.users--;
                    local.lock.unlock();
                }
            } catch (IOException | RuntimeException e) {
                // the step's own result stands; the mount just does not learn what it wrote
                metrics.failed.increment();
                log.warn("worker: could not publish cache mount {}: {}", use.id(), e.getMessage());
            } finally {
                use.close();
            }
        }
    }

    private static void applyRoot(Path dir, RootOptions options) throws IOException {
        Files.setAttribute(dir, "unix:uid", options.uid());
        Files.setAttribute(dir, "unix:gid", options.gid());
        Files.setAttribute(dir, "unix:mode", options.mode() == 0 ? 0755 : options.mode());
    }

    private static MountSharing sharing(String sharing) {
        return switch (sharing) {
            case "locked" -> MountSharing.MOUNT_SHARING_LOCKED;
            case "private" -> MountSharing.MOUNT_SHARING_PRIVATE;
            default -> MountSharing.MOUNT_SHARING_SHARED;
        };
    }

    /** One directory per team and id; hashed, since ids are free text. */
    private static String dirName(String team, String id) {
        return "shared-"
                + Digest.of((team + "\0" + id).getBytes(StandardCharsets.UTF_8))
                        .hex()
                        .substring(0, 32);
    }
}
