package dev.stagefarm.worker.exec;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.fs.RootedPaths;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.Native;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * runc creates missing mount points (/proc, /etc/hosts...) in the rootfs. Left in place they would
 * become part of the step's layer, so we note which were missing before the run and afterwards
 * remove those that are still empty stubs.
 */
final class MountStubs {

    private final Path rootfs;
    private final List<String> created; // outermost missing component of each destination, inside the rootfs

    private MountStubs(Path rootfs, List<String> created) {
        this.rootfs = rootfs;
        this.created = created;
    }

    static MountStubs before(Path rootfs, List<String> destinations) throws IOException {
        List<String> missing = new ArrayList<>();
        try (RootFs fs = RootFs.open(rootfs)) {
            for (String destination : destinations) {
                String outermost = outermostMissing(fs, destination);
                if (outermost != null && !missing.contains(outermost)) {
                    missing.add(outermost);
                }
            }
        }
        return new MountStubs(rootfs, missing);
    }

    /** The first component of {@code destination} (links followed inside the rootfs) that is missing. */
    private static String outermostMissing(RootFs fs, String destination) throws IOException {
        String at = "";
        for (String part : RootedPaths.clean(destination).split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            String next = at.isEmpty() ? part : at + "/" + part;
            if (fs.lstat(next).isEmpty()) {
                return next;
            }
            try {
                at = fs.resolve(next, true);
            } catch (NoSuchFileException dangling) {
                return null; // runc creates what the link names; not ours to track
            }
        }
        return null;
    }

    /**
     * Deletes the stubs the run left, unless the process put something of its own there. Every step
     * goes through descriptors opened beneath the rootfs without following links: the process may
     * have turned a parent into a link to the host.
     */
    void cleanup() throws IOException {
        try (RootFs fs = RootFs.open(rootfs)) {
            for (String stub : created) {
                int slash = stub.lastIndexOf('/');
                try (FileHandle parent = fs.handleExact(slash < 0 ? "" : stub.substring(0, slash))) {
                    FileStat before = parent.stat();
                    // as BuildKit does: removing the stub must not change its directory's times
                    if (before.isDirectory() && removeIfStub(parent, stub.substring(slash + 1))) {
                        parent.setTimes(before.mtimeSeconds(), before.mtimeNanos());
                    }
                } catch (NoSuchFileException | Native.ErrnoException replaced) {
                    // the process replaced a parent (by a file or a link): what is there is its own
                }
            }
        }
    }

    private static boolean removeIfStub(FileHandle dir, String name) throws IOException {
        FileStat s;
        try (FileHandle child = dir.child(name)) {
            s = child.stat();
            if (s.isDirectory()) {
                boolean allStubs = true;
                for (String grandchild : child.list()) {
                    allStubs &= removeIfStub(child, grandchild);
                }
                if (!allStubs) {
                    return false;
                }
            }
        } catch (NoSuchFileException gone) {
            return true;
        }
        if (s.isDirectory() || (s.isRegular() && s.size() == 0)) {
            try {
                dir.remove(name, s.isDirectory());
            } catch (NoSuchFileException gone) {
                // removed meanwhile
            }
            return true;
        }
        return false;
    }
}
