package dev.stagefarm.worker.job;

import dev.stagefarm.common.Digest;
import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.disk.DiskUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The worker's local blobs, one file per digest. Writers go through a temp file and an atomic
 * rename, so a blob present under its digest is always whole; an existing one is success. Blobs
 * count against the worker's {@link DiskBudget}, which may delete those no running job uses.
 */
public final class ContentStore {

    private final Path dir;
    private final Path tmp;
    private final DiskBudget budget;

    public ContentStore(Path root) throws IOException {
        this(root, DiskBudget.unlimited());
    }

    public ContentStore(Path root, DiskBudget budget) throws IOException {
        this.dir = Files.createDirectories(root.resolve("sha256"));
        this.tmp = Files.createDirectories(root.resolve("tmp"));
        this.budget = budget;
        budget.register(DiskBudget.Kind.BLOB, name -> {
            Files.deleteIfExists(dir.resolve(name));
            return () -> {};
        });
        try (Stream<Path> blobs = Files.list(dir)) {
            // blobs a previous run left: the oldest counts as the least recently used
            for (Path p :
                    blobs.sorted(Comparator.comparing(ContentStore::modified)).toList()) {
                budget.added(DiskBudget.Kind.BLOB, p.getFileName().toString(), DiskUsage.of(p));
            }
        }
    }

    public Path path(Digest digest) {
        return dir.resolve(digest.encoded());
    }

    /** The blob, pinned for the job asking until it ends. */
    public Optional<Path> find(Digest digest) {
        Path p = path(digest);
        return budget.use(DiskBudget.Kind.BLOB, digest.encoded(), () -> Files.isRegularFile(p))
                ? Optional.of(p)
                : Optional.empty();
    }

    public Path tempFile(String prefix) throws IOException {
        return Files.createTempFile(tmp, prefix, ".part");
    }

    /** Moves a finished temp file in under its digest. */
    public Path commit(Path temp, Digest digest) throws IOException {
        Path target = path(digest);
        if (find(digest).isPresent()) {
            Files.deleteIfExists(temp);
            return target;
        }
        long size = DiskUsage.of(temp);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        budget.added(DiskBudget.Kind.BLOB, digest.encoded(), size);
        return target;
    }

    /** Makes room for a blob of {@code bytes} about to be fetched. */
    void reserve(long bytes) {
        budget.makeRoom(bytes);
    }

    private static java.nio.file.attribute.FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(0);
        }
    }
}
