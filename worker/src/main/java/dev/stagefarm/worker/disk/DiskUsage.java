package dev.stagefarm.worker.disk;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/** What a file or tree takes on disk, as du counts it: whole 4 KiB blocks, each hard-linked inode once. */
public final class DiskUsage {

    private static final long BLOCK = 4096;

    private DiskUsage() {}

    public static long of(Path path) throws IOException {
        long[] total = {0};
        Set<Object> inodes = new HashSet<>();
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    total[0] += BLOCK;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() && (attrs.fileKey() == null || inodes.add(attrs.fileKey()))) {
                        total[0] += blocks(attrs.size());
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // gone meanwhile: it takes nothing
                }
            });
        } catch (NoSuchFileException e) {
            return 0;
        }
        return total[0];
    }

    static long blocks(long bytes) {
        return (bytes + BLOCK - 1) / BLOCK * BLOCK;
    }
}
