package dev.stagefarm.worker.job;

import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The worker's local blobs, one file per digest. Writers go through a temp file and an atomic
 * rename, so a blob present under its digest is always whole; an existing one is success.
 */
public final class ContentStore {

    private final Path dir;
    private final Path tmp;

    public ContentStore(Path root) throws IOException {
        this.dir = Files.createDirectories(root.resolve("sha256"));
        this.tmp = Files.createDirectories(root.resolve("tmp"));
    }

    public Path path(Digest digest) {
        return dir.resolve(digest.encoded());
    }

    public Optional<Path> find(Digest digest) {
        Path p = path(digest);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    public Path tempFile(String prefix) throws IOException {
        return Files.createTempFile(tmp, prefix, ".part");
    }

    /** Moves a finished temp file in under its digest. */
    public Path commit(Path temp, Digest digest) throws IOException {
        Path target = path(digest);
        if (Files.exists(target)) {
            Files.deleteIfExists(temp);
            return target;
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }
}
