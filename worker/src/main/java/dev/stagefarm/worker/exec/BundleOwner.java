package dev.stagefarm.worker.exec;

import dev.stagefarm.common.fs.FileTrees;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which worker a directory of runc bundles belongs to. Bundles hold each step's environment,
 * secrets included, in {@code /dev/shm}: a worker killed with SIGKILL leaves them there, and a
 * worker whose root was a temporary directory never comes back for them. So each bundle
 * directory has an owner file naming the worker's runc state directory, locked for as long as
 * that worker lives; a starting worker removes every sibling bundle directory whose owner's lock
 * is free (its worker is dead, whoever it was) and never one whose owner lives, so two workers on
 * one host never remove each other's live bundles. Directories without an owner file (from
 * workers before this one) are left alone.
 *
 * <p>Claims and sweeps of one base directory take turns under a lock of the base
 * ({@value #BASE_LOCK}), held for milliseconds: a worker never finds a sibling's lock held by a
 * sweeper rather than by its owner. The locks are POSIX record locks, dropped by the kernel when
 * a process dies, and also when this process closes any descriptor of the file: so an owner file
 * this process holds is never opened again ({@link #HELD_HERE}).
 */
final class BundleOwner {

    private static final Logger log = LoggerFactory.getLogger(BundleOwner.class);

    static final String OWNER_FILE = ".owner";
    static final String BASE_LOCK = "stagefarm-bundles.lock";
    static final String PREFIX = "stagefarm-bundles-";

    /** Bundle directories this process owns, with the lock that says so. */
    private static final Map<Path, FileLock> HELD_HERE = new ConcurrentHashMap<>();

    private BundleOwner() {}

    /**
     * Makes {@code dir} (0700) the bundle directory of the worker whose runc state is {@code
     * stateDir}, and removes the bundle directories of dead workers beside it.
     *
     * @return the dead workers' directories removed
     * @throws IOException a live worker (another process) owns {@code dir}
     */
    static List<Path> claim(Path dir, Path stateDir) throws IOException {
        Path bundles = dir.toAbsolutePath().normalize();
        String owner = stateDir.toAbsolutePath().normalize().toString();
        synchronized (HELD_HERE) {
            try (FileChannel baseLock = lockBase(bundles.getParent())) {
                if (!HELD_HERE.containsKey(bundles)) {
                    take(bundles, owner);
                }
                return bundles.getFileName().toString().startsWith(PREFIX) ? removeDeadSiblings(bundles) : List.of();
            }
        }
    }

    private static void take(Path bundles, String owner) throws IOException {
        var privateDir = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        Files.createDirectories(bundles, privateDir);
        Files.setPosixFilePermissions(bundles, PosixFilePermissions.fromString("rwx------"));
        Path file = bundles.resolve(OWNER_FILE);
        FileChannel ch =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = ch.tryLock();
        if (lock == null) {
            ch.close(); // another process holds it; this process held no lock on it to lose
            throw new IOException("the runc bundle directory " + bundles + " belongs to a running worker ("
                    + Files.readString(file).strip() + "): give each worker a root directory of its own");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((owner + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        HELD_HERE.put(bundles, lock);
    }

    private static List<Path> removeDeadSiblings(Path bundles) throws IOException {
        List<Path> siblings;
        try (Stream<Path> list = Files.list(bundles.getParent())) {
            siblings = list.filter(p -> p.getFileName().toString().startsWith(PREFIX))
                    .filter(p -> !HELD_HERE.containsKey(p))
                    .filter(p -> Files.isRegularFile(p.resolve(OWNER_FILE)))
                    .toList();
        }
        List<Path> removed = new ArrayList<>();
        for (Path dir : siblings) {
            try (FileChannel ch = FileChannel.open(dir.resolve(OWNER_FILE), StandardOpenOption.WRITE)) {
                FileLock lock = ch.tryLock();
                if (lock == null) {
                    continue; // its worker lives
                }
                log.warn(
                        "removing runc bundles {} left by a dead worker ({})",
                        dir,
                        Files.readString(dir.resolve(OWNER_FILE)).strip());
                FileTrees.deleteRecursively(dir);
                removed.add(dir);
            } catch (IOException e) {
                // another worker's leftovers must not keep this one from starting
                log.warn("could not remove runc bundles {} of a dead worker: {}", dir, e.toString());
            }
        }
        return removed;
    }

    private static FileChannel lockBase(Path base) throws IOException {
        FileChannel ch = FileChannel.open(base.resolve(BASE_LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            ch.lock(); // released when the channel closes
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }
}
