package dev.stagefarm.common.fs;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Deletes a worker's own directory trees without ever following a link or descending into another mount. */
public final class FileTrees {

    private FileTrees() {}

    public static void deleteRecursively(Path top) throws IOException {
        long device;
        try {
            device = device(top);
        } catch (NoSuchFileException e) {
            return;
        }
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                // a mount still active below (e.g. a lower of a live overlay) must not be emptied
                if (device(dir) != device) {
                    throw new IOException("refusing to delete " + dir + ": it is a mount point inside " + top);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static long device(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue();
    }
}
