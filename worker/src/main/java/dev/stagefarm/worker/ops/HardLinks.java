package dev.stagefarm.worker.ops;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.linux.FileStat;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The files one COPY has written so far, by source inode: two source names of one inode become
 * two names of one inode at the destination, as BuildKit keeps hard links within a copy. The first
 * copy is held by a descriptor, so the second name links to that very file, wherever its path went.
 */
final class HardLinks implements AutoCloseable {

    private record Inode(long dev, long ino) {}

    private final Map<Inode, FileHandle> copied = new HashMap<>();

    /** Where the source's inode was already copied to in this step; only regular files with several names count. */
    Optional<FileHandle> firstCopyOf(FileStat source) {
        return counts(source) ? Optional.ofNullable(copied.get(key(source))) : Optional.empty();
    }

    /** Remembers {@code copy} as the copy of {@code source}, or closes it when it need not be remembered. */
    void copied(FileStat source, FileHandle copy) {
        if (!counts(source) || copied.putIfAbsent(key(source), copy) != null) {
            copy.close();
        }
    }

    boolean counts(FileStat source) {
        return source.isRegular() && source.nlink() >= 2;
    }

    private static Inode key(FileStat s) {
        return new Inode(s.dev(), s.ino());
    }

    @Override
    public void close() {
        copied.values().forEach(FileHandle::close);
        copied.clear();
    }
}
