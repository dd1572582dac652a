package dev.stagefarm.worker.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One worker's /24 out of {@link #POOL}, held by a lock on a file for as long as the worker lives,
 * so that several workers on one host (processes or the embedded farm's threads) never share a
 * subnet. The kernel drops the lock when a worker dies; the file keeps the tag of its last holder,
 * so that the next one can remove what the dead one left.
 *
 * <p>The locks are POSIX record locks: closing any descriptor of a file drops every lock this
 * process holds on it. So files leased in this JVM are never opened again (not even read) while
 * held; {@link #HELD_HERE} knows them and their tags.
 */
final class SubnetLease implements AutoCloseable {

    /** The address space of every worker's steps on a host: 256 workers of 253 steps each. */
    static final Cidr POOL = Cidr.parse("10.213.0.0/16");

    private static final Map<Path, String> HELD_HERE = new ConcurrentHashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    private final int index;
    private final Optional<String> previousHolder;

    private SubnetLease(Path file, FileChannel channel, FileLock lock, int index, Optional<String> previousHolder) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
        this.index = index;
        this.previousHolder = previousHolder;
    }

    /** Takes the first free subnet, preferring the one this tag held last (stable addresses across restarts). */
    static SubnetLease acquire(Path dir, String tag) throws IOException {
        Files.createDirectories(dir);
        synchronized (HELD_HERE) {
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < 256; i++) {
                    Path file = dir.resolve("subnet-" + i);
                    if (HELD_HERE.containsKey(file)) {
                        continue;
                    }
                    if (pass == 0
                            && !(Files.exists(file)
                                    && Files.readString(file).strip().equals(tag))) {
                        continue;
                    }
                    Optional<SubnetLease> lease = tryLock(file, i, tag);
                    if (lease.isPresent()) {
                        HELD_HERE.put(file, tag);
                        return lease.get();
                    }
                }
            }
        }
        throw new IOException(
                "all 256 step subnets in " + POOL + " are held by other workers on this host (see " + dir + ")");
    }

    private static Optional<SubnetLease> tryLock(Path file, int index, String tag) throws IOException {
        FileChannel ch =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = ch.tryLock();
        if (lock == null) {
            ch.close(); // another process holds it; this process held no lock on it to lose
            return Optional.empty();
        }
        ByteBuffer buf = ByteBuffer.allocate(64);
        ch.read(buf, 0);
        String previous = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((tag + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(true);
        return Optional.of(
                new SubnetLease(file, ch, lock, index, previous.isEmpty() ? Optional.empty() : Optional.of(previous)));
    }

    /**
     * Whether a live worker with {@code tag} holds another subnet (it restarted and found its old
     * one taken): then what exists under its tag is its own and in use, not leftovers.
     */
    static boolean heldElsewhere(Path dir, String tag) throws IOException {
        synchronized (HELD_HERE) {
            if (HELD_HERE.containsValue(tag)) {
                return true;
            }
            try (var files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    if (HELD_HERE.containsKey(file)
                            || !Files.readString(file).strip().equals(tag)) {
                        continue;
                    }
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        FileLock probe = ch.tryLock();
                        if (probe == null) {
                            return true;
                        }
                        probe.release();
                    }
                }
            }
        }
        return false;
    }

    Cidr subnet() {
        return new Cidr(POOL.network() + (index << 8), 24);
    }

    /** The tag of the worker that held this subnet before, dead now since its lock was free. */
    Optional<String> previousHolder() {
        return previousHolder;
    }

    @Override
    public void close() throws IOException {
        synchronized (HELD_HERE) {
            try {
                lock.release();
                channel.close();
            } finally {
                HELD_HERE.remove(file);
            }
        }
    }
}
