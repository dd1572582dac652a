package dev.stagefarm.worker.job;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.disk.DiskUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Lays out a build context on this worker from its manifest and the cache's blobs, once per
 * context digest. Files get owner 0:0 (as BuildKit's context transfer gives them) and a fixed
 * mtime, so the same context gives the same layer bytes on every worker.
 */
final class ContextMaterializer {

    private static final FileTime FIXED_MTIME = FileTime.fromMillis(0);

    private final Path root;
    private final CacheClient cache;
    private final ContentStore blobs;
    private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();

    private final DiskBudget budget;
    /** Contexts and their files are kept once per digest; a team uses them only if its cache has them. */
    private final TeamBlobs teams;

    ContextMaterializer(Path root, CacheClient cache, ContentStore blobs) throws IOException {
        this(root, cache, blobs, DiskBudget.unlimited());
    }

    ContextMaterializer(Path root, CacheClient cache, ContentStore blobs, DiskBudget budget) throws IOException {
        this(root, cache, blobs, budget, new TeamBlobs(cache));
    }

    ContextMaterializer(Path root, CacheClient cache, ContentStore blobs, DiskBudget budget, TeamBlobs teams)
            throws IOException {
        this.teams = teams;
        this.root = Files.createDirectories(root);
        this.cache = cache;
        this.blobs = blobs;
        this.budget = budget;
        budget.register(DiskBudget.Kind.CONTEXT, name -> {
            Files.deleteIfExists(this.root.resolve(name + ".done"));
            Path gone = this.root.resolve(name + ".evicted-" + System.nanoTime());
            Files.move(this.root.resolve(name), gone, StandardCopyOption.ATOMIC_MOVE);
            return () -> FileTrees.deleteRecursively(gone);
        });
        try (java.util.stream.Stream<Path> entries = Files.list(this.root)) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                if (!name.contains(".") && Files.exists(this.root.resolve(name + ".done"))) {
                    budget.added(DiskBudget.Kind.CONTEXT, name, DiskUsage.of(p));
                } else if (!name.endsWith(".done")) {
                    FileTrees.deleteRecursively(p); // unfinished or half evicted when a worker died
                }
            }
        }
    }

    /** The context's directory, fetching what this worker lacks; bytes fetched are added to {@code fetched}. */
    Path materialize(Digest contextDigest, AtomicLong fetched) throws IOException {
        Path dir = root.resolve(contextDigest.encoded());
        Path done = root.resolve(contextDigest.encoded() + ".done");
        synchronized (locks.computeIfAbsent(contextDigest.encoded(), k -> new Object())) {
            String laidOut = "context:" + contextDigest;
            boolean here = budget.use(DiskBudget.Kind.CONTEXT, contextDigest.encoded(), () -> Files.exists(done));
            if (here && teams.knows(laidOut)) {
                return dir;
            }
            // fails, as on a worker without it, when the team's cache lacks the manifest
            byte[] manifestBytes = cache.readBytes(contextDigest);
            fetched.addAndGet(manifestBytes.length);
            ContextManifest manifest = ContextManifest.parseFrom(manifestBytes);
            Set<Digest> files = manifest.getEntriesList().stream()
                    .filter(e -> e.getType() == ContextEntry.Type.FILE)
                    .map(e -> Digest.parse(e.getDigest()))
                    .collect(Collectors.toSet());
            if (here) {
                // laid out for another team: its files serve this one only if this team's cache has them all
                Set<Digest> lacking = new java.util.TreeSet<>(java.util.Comparator.comparing(Digest::toString));
                lacking.addAll(files);
                lacking.removeAll(teams.usable(files));
                if (!lacking.isEmpty()) {
                    throw new IOException("context " + contextDigest + " names "
                            + lacking.iterator().next()
                            + ", which is not in your team's cache: send the build context again");
                }
                teams.learn(laidOut);
                return dir;
            }
            // a manifest names file blobs by digest: only those of the job's team's cache are taken from our disk
            Set<Digest> usable = teams.usable(
                    files.stream().filter(d -> blobs.find(d).isPresent()).collect(Collectors.toSet()));
            Path tmp = root.resolve(contextDigest.encoded() + ".tmp");
            FileTrees.deleteRecursively(tmp);
            Files.createDirectories(tmp);
            for (ContextEntry e : manifest.getEntriesList()) {
                Path target = entryPath(tmp, e.getPath());
                switch (e.getType()) {
                    case DIRECTORY -> {
                        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                            Files.createDirectory(target);
                        } else if (!isDir(target)) {
                            throw new IOException(
                                    "context entry " + e.getPath() + " is a directory and, earlier, not one");
                        }
                    }
                    case SYMLINK -> Files.createSymbolicLink(target, Path.of(e.getLinkTarget()));
                    case HARDLINK -> {
                        Path first = entryPath(tmp, e.getLinkTarget());
                        if (!Files.isRegularFile(first, LinkOption.NOFOLLOW_LINKS)) {
                            throw new IOException("context hard link " + e.getPath() + " names no earlier file: "
                                    + e.getLinkTarget());
                        }
                        Files.createLink(target, first);
                        continue; // one inode: its owner, mode and time are the first name's
                    }
                    case FILE -> {
                        Digest d = Digest.parse(e.getDigest());
                        Path blob = usable.contains(d) ? blobs.find(d).orElse(null) : null;
                        if (blob == null) {
                            Path temp = blobs.tempFile("ctx");
                            fetched.addAndGet(cache.download(d, temp));
                            blob = blobs.commit(temp, d);
                            teams.allow(d);
                        }
                        Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                    default -> throw new IOException("unknown context entry type for " + e.getPath());
                }
                // whoever runs the worker, context files belong to root in the image (a COPY keeps them)
                Files.setAttribute(target, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(target, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
                if (e.getType() != ContextEntry.Type.SYMLINK) {
                    Files.setAttribute(target, "unix:mode", e.getMode() & 07777);
                    Files.setLastModifiedTime(target, FIXED_MTIME);
                }
            }
            // directory times last, after their contents are written
            for (ContextEntry e : manifest.getEntriesList()) {
                if (e.getType() == ContextEntry.Type.DIRECTORY) {
                    Files.setLastModifiedTime(tmp.resolve(e.getPath()), FIXED_MTIME);
                }
            }
            Files.setLastModifiedTime(tmp, FIXED_MTIME);
            FileTrees.deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            Files.createFile(done);
            budget.added(DiskBudget.Kind.CONTEXT, contextDigest.encoded(), DiskUsage.of(dir));
            teams.learn(laidOut);
            return dir;
        }
    }

    /**
     * Where a context entry goes: inside {@code tmp} and never below a symlink, creating the
     * directories on the way. A manifest is the client's input, and the worker writes as root:
     * an entry "a/x" after a symlink "a" -> "/etc" must not write /etc/x, nor a hard link reach
     * a host file through one. The CLI's scanner never produces either.
     */
    private static Path entryPath(Path tmp, String entry) throws IOException {
        Path target = tmp.resolve(entry).normalize();
        if (!target.startsWith(tmp) || target.equals(tmp)) {
            throw new IOException("context entry escapes the context: " + entry);
        }
        Path relative = tmp.relativize(target);
        Path dir = tmp;
        for (int i = 0; i < relative.getNameCount() - 1; i++) {
            dir = dir.resolve(relative.getName(i));
            if (Files.isSymbolicLink(dir)) {
                throw new IOException("context entry " + entry + " lies below the symlink " + tmp.relativize(dir)
                        + ": a context cannot hold files through a link");
            }
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(dir);
            } else if (!isDir(dir)) {
                throw new IOException("context entry " + entry + " lies below the file " + tmp.relativize(dir));
            }
        }
        return target;
    }

    static boolean isDir(Path p) {
        return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
    }
}
