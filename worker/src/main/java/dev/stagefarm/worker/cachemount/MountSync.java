package dev.stagefarm.worker.cachemount;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.common.linux.LinuxFiles;
import dev.stagefarm.proto.cache.MountEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a cache mount's directory hold a manifest's state, touching only what differs from what
 * the directory is known to hold: changed files are fetched (small ones many per call), removed
 * paths deleted, and owners, modes and mtimes set as the manifest says.
 */
final class MountSync {

    /** Small files are read in groups of at most this many bytes, so a sync never holds more. */
    private static final long GROUP_BYTES = 16L << 20;

    private static final Logger log = LoggerFactory.getLogger(MountSync.class);

    private final CacheClient cache;

    MountSync(CacheClient cache) {
        this.cache = cache;
    }

    /** What a sync did. */
    record Result(TreeMap<String, MountEntry> entries, long fetchedBytes, int fetchedFiles, int lostFiles) {}

    /**
     * @param known  what {@code root} held after its last sync or scan; entries the disk no longer
     *               matches (by type, size and mtime) are treated as unknown and fetched again
     * @param target the state to reach, by path
     * @return the entries {@code root} now holds: {@code target} less files whose blobs the cache lost
     */
    Result sync(Path root, Map<String, MountEntry> known, TreeMap<String, MountEntry> target) throws IOException {
        Map<String, MountEntry> trusted = new HashMap<>();
        for (Map.Entry<String, MountEntry> e : known.entrySet()) {
            if (MountScanner.matches(root.resolve(e.getKey()), e.getValue())) {
                trusted.put(e.getKey(), e.getValue());
            }
        }
        // removals first, deepest first, so a path that changes type is free for its new entry
        List<String> gone = new ArrayList<>();
        for (String path : trusted.keySet()) {
            MountEntry wanted = target.get(path);
            if (wanted == null || wanted.getType() != trusted.get(path).getType()) {
                gone.add(path);
            }
        }
        gone.sort(Comparator.reverseOrder());
        for (String path : gone) {
            FileTrees.deleteRecursively(root.resolve(path));
            trusted.remove(path);
        }

        Map<Digest, List<Path>> small = new LinkedHashMap<>();
        Map<Digest, List<Path>> large = new LinkedHashMap<>();
        Map<Digest, Long> sizes = new HashMap<>();
        Path realRoot = root.toRealPath();
        List<String> unsafe = new ArrayList<>();
        List<MountEntry> changed = new ArrayList<>();
        for (MountEntry e : target.values()) {
            MountEntry have = trusted.get(e.getPath());
            if (e.equals(have)) {
                continue;
            }
            Path path = root.resolve(e.getPath());
            if (!insideRoot(realRoot, path.getParent())) {
                // a manifest with a symlink where a directory should be: never write through it
                log.warn("worker: cache mount entry {} lies under a symlink; skipped", e.getPath());
                unsafe.add(e.getPath());
                continue;
            }
            Files.createDirectories(path.getParent());
            changed.add(e);
            switch (e.getType()) {
                case DIRECTORY -> {
                    if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                        FileTrees.deleteRecursively(path);
                        Files.createDirectory(path);
                    }
                }
                case SYMLINK -> {
                    FileTrees.deleteRecursively(path);
                    Files.createSymbolicLink(path, Path.of(e.getLinkTarget()));
                }
                case FILE -> {
                    if (have == null || !have.getDigest().equals(e.getDigest())) {
                        Map<Digest, List<Path>> group = e.getSize() < CacheClient.SMALL_FILE_BYTES ? small : large;
                        group.computeIfAbsent(Digest.parse(e.getDigest()), d -> new ArrayList<>())
                                .add(path);
                        sizes.put(Digest.parse(e.getDigest()), e.getSize());
                    }
                }
                default -> {}
            }
        }

        long[] fetched = new long[2];
        List<Path> lost = new ArrayList<>();
        fetchSmall(small, sizes, fetched, lost);
        for (Map.Entry<Digest, List<Path>> f : large.entrySet()) {
            try {
                Path first = f.getValue().getFirst();
                FileTrees.deleteRecursively(first);
                long size = cache.download(f.getKey(), first);
                fetched[0] += size;
                fetched[1]++;
                for (Path more : f.getValue().subList(1, f.getValue().size())) {
                    FileTrees.deleteRecursively(more);
                    Files.copy(first, more);
                }
            } catch (NoSuchFileException evicted) {
                lost.addAll(f.getValue());
            }
        }

        TreeMap<String, MountEntry> now = new TreeMap<>(target);
        unsafe.forEach(now::remove);
        for (Path p : lost) {
            String path = root.relativize(p).toString();
            now.remove(path);
            FileTrees.deleteRecursively(p);
        }
        if (!lost.isEmpty()) {
            log.info(
                    "worker: {} files of the cache mount are no longer in the cache; the step runs without them",
                    lost.size());
        }
        // owners and modes, then times; directories deepest last-first, since filling them moved theirs
        for (MountEntry e : changed) {
            if (!now.containsKey(e.getPath())) {
                continue;
            }
            Path path = root.resolve(e.getPath());
            LinuxFiles.lchown(path, e.getUid(), e.getGid());
            if (e.getType() != MountEntry.Type.SYMLINK) {
                Files.setAttribute(path, "unix:mode", e.getMode(), LinkOption.NOFOLLOW_LINKS);
            }
        }
        for (MountEntry e : changed.reversed()) {
            if (now.containsKey(e.getPath()) && e.getMtimeNanos() != 0) {
                LinuxFiles.utimensNoFollow(
                        root.resolve(e.getPath()), Math.floorDiv(e.getMtimeNanos(), 1_000_000_000L), (int)
                                Math.floorMod(e.getMtimeNanos(), 1_000_000_000L));
            }
        }
        return new Result(now, fetched[0], (int) fetched[1], lost.size());
    }

    /** Small files many per BatchReadBlobs call, in groups of at most {@link #GROUP_BYTES}. */
    private void fetchSmall(Map<Digest, List<Path>> small, Map<Digest, Long> sizes, long[] fetched, List<Path> lost)
            throws IOException {
        List<Digest> group = new ArrayList<>();
        long bytes = 0;
        for (Digest d : small.keySet()) {
            group.add(d);
            bytes += sizes.get(d);
            if (bytes >= GROUP_BYTES) {
                writeGroup(group, small, fetched, lost);
                group.clear();
                bytes = 0;
            }
        }
        writeGroup(group, small, fetched, lost);
    }

    private void writeGroup(List<Digest> group, Map<Digest, List<Path>> small, long[] fetched, List<Path> lost)
            throws IOException {
        if (group.isEmpty()) {
            return;
        }
        Map<Digest, byte[]> blobs = cache.readAll(group);
        for (Digest d : group) {
            byte[] data = blobs.get(d);
            if (data == null) {
                lost.addAll(small.get(d));
                continue;
            }
            fetched[0] += data.length;
            fetched[1]++;
            for (Path path : small.get(d)) {
                FileTrees.deleteRecursively(path);
                Path temp = Files.createTempFile(path.getParent(), "." + path.getFileName(), ".part");
                Files.write(temp, data);
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Whether the nearest existing ancestor of {@code dir} (itself included) resolves inside the root. */
    private static boolean insideRoot(Path realRoot, Path dir) throws IOException {
        Path p = dir;
        while (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            p = p.getParent();
        }
        return p.toRealPath().startsWith(realRoot);
    }
}
