package dev.stagefarm.worker.snapshot;

import dev.stagefarm.worker.linux.Mounts;
import java.io.IOException;
import java.nio.file.Path;

/** A read-only view of committed snapshots; closing unmounts it if it needed a mount. */
public final class ReadOnlyView implements AutoCloseable {

    private final OverlaySnapshotter owner; // null: a plain committed directory, nothing to undo
    private final Path dir;
    private final Path path;
    private boolean closed;

    private ReadOnlyView(OverlaySnapshotter owner, Path dir, Path path) {
        this.owner = owner;
        this.dir = dir;
        this.path = path;
    }

    static ReadOnlyView unmounted(Path path) {
        return new ReadOnlyView(null, null, path);
    }

    static ReadOnlyView mounted(OverlaySnapshotter owner, Path dir, Path merged) {
        return new ReadOnlyView(owner, dir, merged);
    }

    /** The root of the view. A single snapshot is handed out directly: do not write to it. */
    public Path path() {
        return path;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed || owner == null) {
            closed = true;
            return;
        }
        closed = true;
        Mounts.unmountDetached(path);
        owner.discard(dir);
    }
}
