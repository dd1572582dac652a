package dev.stagefarm.worker.snapshot;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.disk.DiskUsage;
import dev.stagefarm.worker.linux.MountInfo;
import dev.stagefarm.worker.linux.Mounts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Overlayfs snapshots under one root directory, identified by string keys.
 *
 * <p>Layout (short numeric ids keep dozens of lower directories within the one-page mount option
 * limit; beyond that {@link OverlayMount} names them through file descriptors):
 *
 * <pre>
 * root/empty/              an always-empty lower for snapshots without parents
 * root/s/&lt;id&gt;/fs           committed content, or the upper directory while active
 * root/s/&lt;id&gt;/work, merged  overlay workdir and mount point while active
 * root/s/&lt;id&gt;/key          the key, for humans
 * root/keys/&lt;sha256(key)&gt;   symlink to ../s/&lt;id&gt;, created last: a commit is atomic
 * </pre>
 */
public final class OverlaySnapshotter {

    private static final Logger log = LoggerFactory.getLogger(OverlaySnapshotter.class);

    private final Path root;
    private final Path empty;
    private final Path snapshots;
    private final Path keys;
    private final AtomicLong nextId;
    private volatile DiskBudget budget = DiskBudget.unlimited();

    private OverlaySnapshotter(Path root, long nextId) {
        this.root = root;
        this.empty = root.resolve("empty");
        this.snapshots = root.resolve("s");
        this.keys = root.resolve("keys");
        this.nextId = new AtomicLong(nextId);
    }

    /**
     * Opens (creating if needed) the snapshot store at {@code root}, first undoing what a killed
     * worker left behind: overlay mounts below the root are detached, uncommitted snapshots deleted.
     * Run the executor's own recovery first, so no container still uses those mounts.
     */
    public static OverlaySnapshotter open(Path root) throws IOException {
        Files.createDirectories(root);
        // every team's unpacked layers and step results: for the worker's eyes only, wherever the root is
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        Path real = root.toRealPath(); // mountinfo shows resolved paths
        for (String dir : List.of("empty", "s", "keys")) {
            Files.createDirectories(real.resolve(dir));
        }
        detachLeftoverMounts(real);
        long maxId = deleteUncommitted(real);
        log.info("overlay snapshots at {} (next id {})", real, maxId + 1);
        return new OverlaySnapshotter(real, maxId + 1);
    }

    public Path root() {
        return root;
    }

    /**
     * Counts committed snapshots in {@code diskBudget} from now on, those already here first
     * (oldest id least recently used), and lets it evict them. A lookup ({@link #exists},
     * {@link #committedDir}) pins the snapshot for the job making it.
     */
    public void trackIn(DiskBudget diskBudget) throws IOException {
        diskBudget.register(DiskBudget.Kind.SNAPSHOT, this::unlink);
        try (Stream<Path> dirs = Files.list(snapshots)) {
            List<String> committed = dirs.map(d -> d.getFileName().toString())
                    .filter(id -> id.chars().allMatch(Character::isDigit))
                    .sorted(Comparator.comparingLong(Long::parseLong))
                    .toList();
            for (String id : committed) {
                diskBudget.added(DiskBudget.Kind.SNAPSHOT, id, DiskUsage.of(snapshots.resolve(id)));
            }
        }
        this.budget = diskBudget;
    }

    public boolean exists(String key) {
        Path link = keyLink(key);
        String id = targetId(link);
        return id != null && budget.use(DiskBudget.Kind.SNAPSHOT, id, key, () -> id.equals(targetId(link)));
    }

    /** The directory holding the committed snapshot's files; usable as an overlay lower. Never write to it. */
    public Path committedDir(String key) throws NoSuchSnapshotException {
        Path link = keyLink(key);
        String id = targetId(link);
        if (id == null || !budget.use(DiskBudget.Kind.SNAPSHOT, id, key, () -> id.equals(targetId(link)))) {
            throw new NoSuchSnapshotException(key);
        }
        return snapshots.resolve(id).resolve("fs");
    }

    /** The snapshot id a key link names, or null without one. */
    private static String targetId(Path link) {
        try {
            return Files.readSymbolicLink(link).getFileName().toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** Evicts snapshot {@code id}: every key naming it goes now, its files when the returned deletion runs. */
    private DiskBudget.Deletion unlink(String id) throws IOException {
        try (Stream<Path> links = Files.list(keys)) {
            for (Path link : links.toList()) {
                if (id.equals(targetId(link))) {
                    Files.deleteIfExists(link);
                }
            }
        }
        return () -> FileTrees.deleteRecursively(snapshots.resolve(id));
    }

    /**
     * Mounts a new writable snapshot on top of committed parents.
     *
     * @param parentChain committed keys, lowest (base) first; empty for a snapshot from scratch
     */
    public ActiveSnapshot prepare(List<String> parentChain) throws IOException {
        List<Path> lowers = lowersTopFirst(parentChain);
        Path dir = newSnapshotDir();
        try {
            Path upper = Files.createDirectory(dir.resolve("fs"));
            Path work = Files.createDirectory(dir.resolve("work"));
            Path merged = Files.createDirectory(dir.resolve("merged"));
            OverlayMount.mountWritable(merged, lowers.isEmpty() ? List.of(empty) : lowers, upper, work);
            return new ActiveSnapshot(this, dir, List.copyOf(parentChain), true);
        } catch (IOException | RuntimeException e) {
            discard(dir);
            throw e;
        }
    }

    /**
     * A new snapshot without parents and without a mount: write its {@link ActiveSnapshot#upper()}
     * directly, in overlayfs form (whiteouts as 0:0 character devices, opaque directories marked),
     * e.g. when unpacking an image layer. Cheaper than {@link #prepare} and it avoids writing to
     * the upper directory of a live overlay, which overlayfs leaves undefined.
     */
    public ActiveSnapshot prepareDirect() throws IOException {
        Path dir = newSnapshotDir();
        try {
            Files.createDirectory(dir.resolve("fs"));
            return new ActiveSnapshot(this, dir, List.of(), false);
        } catch (IOException | RuntimeException e) {
            discard(dir);
            throw e;
        }
    }

    /**
     * A read-only view of a chain of committed snapshots (lowest first), for reading a stage's files.
     * One snapshot is returned as its own directory, more are merged by a read-only overlay.
     */
    public ReadOnlyView mountReadOnly(List<String> chain) throws IOException {
        List<Path> lowers = lowersTopFirst(chain);
        if (lowers.isEmpty()) {
            return ReadOnlyView.unmounted(empty);
        }
        if (lowers.size() == 1) {
            return ReadOnlyView.unmounted(lowers.getFirst());
        }
        Path dir = newSnapshotDir();
        try {
            Path merged = Files.createDirectory(dir.resolve("merged"));
            OverlayMount.mountReadOnly(merged, lowers);
            return ReadOnlyView.mounted(this, dir, merged);
        } catch (IOException | RuntimeException e) {
            discard(dir);
            throw e;
        }
    }

    /**
     * Publishes an unmounted active snapshot's upper directory under {@code key}. If the key is
     * already committed (a concurrent build of the same step) that one wins and ours is deleted.
     */
    /**
     * Makes a committed snapshot reachable under a second key as well (e.g. its content's digest),
     * so equal content is found whichever key a later job asks for. An existing alias is kept.
     */
    public void alias(String existing, String alias) throws IOException {
        Path target = Files.readSymbolicLink(keyLink(existing));
        try {
            Files.createSymbolicLink(keyLink(alias), target);
            budget.alsoKnownAs(DiskBudget.Kind.SNAPSHOT, target.getFileName().toString(), alias);
        } catch (FileAlreadyExistsException e) {
            // the same content is already known under that key
        }
    }

    Path publish(Path dir, String key) throws IOException {
        Files.writeString(dir.resolve("key"), key + "\n", StandardCharsets.UTF_8);
        try {
            Files.createSymbolicLink(
                    keyLink(key), Path.of("..", "s", dir.getFileName().toString()));
            budget.added(DiskBudget.Kind.SNAPSHOT, dir.getFileName().toString(), DiskUsage.of(dir), key);
            return dir.resolve("fs");
        } catch (FileAlreadyExistsException e) {
            log.debug("snapshot {} was committed concurrently; discarding {}", key, dir);
            discard(dir);
            return committedDir(key);
        }
    }

    void discard(Path dir) throws IOException {
        FileTrees.deleteRecursively(dir);
    }

    /**
     * The chain's directories, top-most first, each once. Two steps that make the same layer (the
     * same file written twice within a second) share one snapshot, and overlayfs refuses a
     * directory given twice ("overlapping layers", ELOOP). Keeping only its top-most place shows
     * the same files: everything the lower copy holds, the upper copy holds too, above whatever
     * lies between them.
     */
    private List<Path> lowersTopFirst(List<String> chain) throws NoSuchSnapshotException {
        LinkedHashSet<Path> lowers = new LinkedHashSet<>();
        for (String key : chain.reversed()) {
            lowers.add(committedDir(key));
        }
        return List.copyOf(lowers);
    }

    private Path newSnapshotDir() throws IOException {
        while (true) {
            Path dir = snapshots.resolve(Long.toString(nextId.getAndIncrement()));
            try {
                return Files.createDirectory(dir);
            } catch (FileAlreadyExistsException e) {
                // another snapshotter shares this root: take the next id
            }
        }
    }

    private Path keyLink(String key) {
        return keys.resolve(Digest.of(key.getBytes(StandardCharsets.UTF_8)).hex());
    }

    private static void detachLeftoverMounts(Path root) throws IOException {
        List<MountInfo> leftovers = new ArrayList<>(MountInfo.under(root));
        leftovers.removeIf(m -> m.mountPoint().equals(root)); // the root may itself be a volume
        leftovers.sort(Comparator.comparingInt((MountInfo m) -> m.mountPoint().getNameCount())
                .reversed());
        for (MountInfo m : leftovers) {
            log.warn("detaching leftover {} mount at {}", m.fsType(), m.mountPoint());
            try {
                Mounts.unmountDetached(m.mountPoint());
            } catch (NoSuchFileException e) {
                // gone meanwhile
            }
        }
    }

    /** Deletes snapshot directories no key links to (active when a worker died); returns the highest id seen. */
    private static long deleteUncommitted(Path root) throws IOException {
        Set<String> committed = new HashSet<>();
        try (Stream<Path> links = Files.list(root.resolve("keys"))) {
            for (Path link : links.toList()) {
                Path target = Files.isSymbolicLink(link) ? Files.readSymbolicLink(link) : null;
                if (target == null || !Files.isDirectory(root.resolve("s").resolve(target.getFileName()))) {
                    Files.deleteIfExists(link); // dangling: its snapshot was removed by hand
                } else {
                    committed.add(target.getFileName().toString());
                }
            }
        }
        long maxId = 0;
        try (Stream<Path> dirs = Files.list(root.resolve("s"))) {
            for (Path dir : dirs.toList()) {
                String name = dir.getFileName().toString();
                if (name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
                    maxId = Math.max(maxId, Long.parseLong(name));
                }
                if (!committed.contains(name) && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    log.info("deleting uncommitted snapshot {}", dir);
                    FileTrees.deleteRecursively(dir);
                }
            }
        }
        return maxId;
    }
}
