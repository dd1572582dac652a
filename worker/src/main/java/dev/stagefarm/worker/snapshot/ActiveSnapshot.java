package dev.stagefarm.worker.snapshot;

import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.worker.linux.Mounts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A writable overlay mounted at {@link #merged()}: changes land in {@link #upper()} in overlayfs
 * form (whiteouts are 0:0 character devices, replaced directories carry trusted.overlay.opaque).
 * Either {@link #commit(String)} it or {@link #close()} it to throw it away.
 */
public final class ActiveSnapshot implements AutoCloseable {

    private static final Duration UNMOUNT_PATIENCE = Duration.ofSeconds(1);

    private enum State {
        MOUNTED,
        COMMITTED,
        CLOSED
    }

    private final OverlaySnapshotter owner;
    private final Path dir;
    private final List<String> parents;
    private final boolean mounted;
    private State state = State.MOUNTED;

    ActiveSnapshot(OverlaySnapshotter owner, Path dir, List<String> parents, boolean mounted) {
        this.owner = owner;
        this.dir = dir;
        this.parents = parents;
        this.mounted = mounted;
    }

    /**
     * The container's root filesystem: the parents with this snapshot's changes on top. For a
     * {@link OverlaySnapshotter#prepareDirect() direct} snapshot, the upper directory itself.
     */
    public Path merged() {
        return mounted ? dir.resolve("merged") : upper();
    }

    /** This snapshot's own changes, in overlayfs form. */
    public Path upper() {
        return dir.resolve("fs");
    }

    /** The parent chain it was prepared on, lowest first. */
    public List<String> parents() {
        return parents;
    }

    /**
     * Unmounts and publishes the changes under {@code key}; returns the committed directory. A key
     * that is already committed counts as success and our copy is discarded.
     */
    public synchronized Path commit(String key) throws IOException {
        if (state != State.MOUNTED) {
            throw new IllegalStateException(
                    "snapshot " + dir + " is already " + state.name().toLowerCase());
        }
        if (mounted) {
            // Not a lazy detach: a process still inside could otherwise write into a published snapshot.
            unmountForCommit(key);
        }
        state = State.COMMITTED;
        FileTrees.deleteRecursively(dir.resolve("work"));
        FileTrees.deleteRecursively(dir.resolve("merged"));
        return owner.publish(dir, key);
    }

    /**
     * Unmounts the merged view, waiting up to a second while it is busy: a descriptor the step's
     * last file operation held can still be closing when the step ends (EBUSY seen once in CI).
     * Not a lazy detach: a process still inside could otherwise write into a published snapshot.
     */
    private void unmountForCommit(String key) throws IOException {
        long deadline = System.nanoTime() + UNMOUNT_PATIENCE.toNanos();
        while (true) {
            try {
                Mounts.unmount(merged());
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException(
                            "cannot commit " + key + ": " + merged() + " is still in use (" + e.getMessage() + ")", e);
                }
                LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            }
        }
    }

    /** Unmounts and deletes the snapshot unless it was committed. Idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (state != State.MOUNTED) {
            return;
        }
        state = State.CLOSED;
        if (mounted) {
            Mounts.unmountDetached(merged());
        }
        owner.discard(dir);
    }

    @Override
    public String toString() {
        return "ActiveSnapshot[" + dir + " on " + parents + "]";
    }
}
