package dev.stagefarm.worker.exec;

import dev.stagefarm.common.fs.RootPath;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * runc creates missing mount points (/proc, /etc/hosts...) in the rootfs. Left in place they would
 * become part of the step's layer, so we note which were missing before the run and afterwards
 * remove those that are still empty stubs.
 */
final class MountStubs {

    private final List<Path> created; // outermost missing component of each destination

    private MountStubs(List<Path> created) {
        this.created = created;
    }

    static MountStubs before(Path rootfs, List<String> destinations) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (String destination : destinations) {
            Path host = RootPath.resolve(rootfs, destination);
            Path outermost = null;
            for (Path p = host; p != null && p.startsWith(rootfs) && !p.equals(rootfs); p = p.getParent()) {
                if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    break;
                }
                outermost = p;
            }
            if (outermost != null && !missing.contains(outermost)) {
                missing.add(outermost);
            }
        }
        return new MountStubs(missing);
    }

    /** Deletes the stubs the run left, unless the process put something of its own there. */
    void cleanup() throws IOException {
        for (Path stub : created) {
            // as BuildKit does: removing the stub must not change its directory's times (what the
            // process did to the directory stays)
            Path parent = stub.getParent();
            java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(parent, LinkOption.NOFOLLOW_LINKS);
            if (removeIfStub(stub)) {
                Files.setLastModifiedTime(parent, before);
            }
        }
    }

    private static boolean removeIfStub(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            boolean allStubs = true;
            try (DirectoryStream<Path> children = Files.newDirectoryStream(p)) {
                for (Path child : children) {
                    allStubs &= removeIfStub(child);
                }
            }
            return allStubs && Files.deleteIfExists(p);
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == 0) {
            return Files.deleteIfExists(p);
        }
        return !Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }
}
